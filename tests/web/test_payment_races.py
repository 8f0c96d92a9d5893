"""Clicks and deliveries at the same moment: one way of payment per order, one period per
payment, and never a 500 (on SQLite and PostgreSQL, with real threads)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_stripe import WEBHOOK, order_optima_7m, pay_by_card, state

from portal.billing import invoices, orders
from portal.clock import now
from portal.extensions import db
from portal.models import Document, Order
from tests.stripe_server.fixtures import StripeServerError


@pytest.fixture
def app(make_app, outbox, stripe_server):
    stripe_server.configure(webhook_url=None)
    return make_app(
        OUTBOX_DIR=str(outbox),
        STRIPE_SECRET_KEY=stripe_server.secret_key,
        STRIPE_API_BASE=stripe_server.url,
        STRIPE_WEBHOOK_SECRET=stripe_server.webhook_secret,
    )


@pytest.fixture
def owner(app, make_organization, form_client):
    acme = make_organization("Acme", "owner@acme.example")
    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    return client


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def twin(app, owner):
    """Another test client with the owner's session, for a second tab clicking at once."""
    other = app.test_client()
    other.set_cookie("session", owner.client.get_cookie("session").value)
    return other


@pytest.mark.parametrize("attempt", range(4))
def test_a_card_payment_and_an_invoice_asked_at_once_leave_one_way_of_payment(app, owner, attempt):
    order_id = order_optima_7m(owner)
    token = owner.token(f"/orders/{order_id}")
    tabs = [twin(app, owner), twin(app, owner)]
    card, invoice = at_once(
        lambda: tabs[0].post(f"/orders/{order_id}/card", data={"csrf_token": token}),
        lambda: tabs[1].post(f"/orders/{order_id}/invoice", data={"csrf_token": token}),
    )
    assert sorted([card.status_code, invoice.status_code]) == [303, 409]
    with app.app_context():
        order = db.session.get(Order, order_id)
        invoices = db.session.scalars(select(Document).where(Document.order_id == order_id)).all()
        if card.status_code == 303:
            assert (order.payment_method, invoices) == ("card", [])
            assert order.stripe_session_id is not None
        else:
            assert order.payment_method == "bank-transfer"
            assert [d.kind for d in invoices] == ["invoice"] and order.stripe_session_id is None
    # Cancel it, so that the next attempt may order again.
    owner.submit(f"/orders/{order_id}", f"/orders/{order_id}/cancel")


def test_staff_cannot_mark_an_invoice_paid_for_an_order_the_card_paid(app, owner, staff_desk):
    order_id = order_optima_7m(owner)
    owner.submit(f"/orders/{order_id}", f"/orders/{order_id}/invoice")
    with app.app_context():
        order = db.session.get(Order, order_id)
        invoice = db.session.scalars(select(Document).where(Document.order_id == order_id)).one()
        # Paid by card all the same (a session made before the invoice, say): the period starts.
        orders.fulfil(db.session, order, method="card", reference="pi_1", now=now())
        db.session.commit()
        invoice_id = invoice.id
    answer = staff_desk.submit("/staff/invoices", f"/staff/invoices/{invoice_id}/paid")
    assert answer.status_code == 303
    page = staff_desk.client.get(answer.location + "?lang=en").get_data(as_text=True)
    assert "This order is paid already, by card" in page
    with app.app_context():
        invoice = db.session.get(Document, invoice_id)
        assert invoice.status == "void" and invoice.paid_by_id is None
        assert state(app)["periods"] == 1


@pytest.fixture
def staff_desk(app, make_user, form_client):
    make_user("desk@example.com", role="staff")
    desk = form_client(app.test_client())
    desk.client.set_cookie("lang", "en")  # the messages read in English
    desk.sign_in("desk@example.com")
    return desk


def signed(payload: str, secret: str) -> str:
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def test_distinct_events_for_one_paid_session_at_once_fulfil_it_once_and_never_answer_500(
    app, owner, stripe_server
):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    sent = stripe_server.complete(session_id, "paid", deliver=False)
    event = json.loads(sent["payload"])
    payloads = []
    for _ in range(12):  # Stripe may send an event more than once, and several per session
        copy = dict(event, id=f"evt_{secrets.token_hex(12)}")
        payloads.append(json.dumps(copy))
    clients = [app.test_client() for _ in payloads]
    answers = at_once(
        *(
            lambda client=client, payload=payload: client.post(
                WEBHOOK,
                data=payload.encode(),
                headers={
                    "Stripe-Signature": signed(payload, stripe_server.webhook_secret),
                    "Content-Type": "application/json",
                },
            )
            for client, payload in zip(clients, payloads, strict=True)
        )
    )
    assert all(answer.status_code in (200, 503) for answer in answers), [
        (a.status_code, a.get_data(as_text=True)[:200]) for a in answers
    ]
    outcomes = [a.get_json().get("outcome") for a in answers if a.status_code == 200]
    assert outcomes.count("fulfilled") == 1
    assert state(app)["orders"] == ["fulfilled"]
    assert state(app)["periods"] == 1 and state(app)["receipts"] == ["RCT-000001"]


# --- closing an order while it is being paid ---------------------------------------------------


def invoiced_order(owner) -> tuple[int, int]:
    order_id = order_optima_7m(owner)
    owner.submit(f"/orders/{order_id}", f"/orders/{order_id}/invoice")
    return order_id, invoice_of(owner.client.application, order_id)


def invoice_of(app, order_id: int) -> int:
    with app.app_context():
        return db.session.scalars(select(Document.id).where(Document.order_id == order_id)).one()


def consistent(app, order_id: int) -> tuple[str, str, int]:
    """The order's state, its invoice's, and how many periods it made: never a mix."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        invoice = db.session.scalars(select(Document).where(Document.order_id == order_id)).one()
        periods = state(app)["periods"]
        return order.status, invoice.status, periods


def in_context(app, use_case):
    """``use_case`` in an application context of its own (a request of its own), its refusal
    as its answer."""

    def run():
        with app.app_context():
            try:
                return use_case()
            except orders.BillingError as error:
                return error.code

    return run


def cancel(order_id: int):
    return lambda: orders.cancel_order(db.session, db.session.get(Order, order_id), now())


def mark_paid(invoice_id: int):
    return lambda: invoices.mark_invoice_paid(db.session, invoice_id, staff_user_id=None, now=now())


def expire():
    return invoices.expire_invoices(db.session, today=now().date(), now=now())


@pytest.mark.parametrize("attempt", range(3))
def test_cancelling_and_marking_paid_at_once_leave_the_order_one_or_the_other(app, owner, attempt):
    order_id, invoice_id = invoiced_order(owner)
    at_once(
        in_context(
            app, lambda: orders.cancel_order(db.session, db.session.get(Order, order_id), now())
        ),
        in_context(
            app,
            lambda: invoices.mark_invoice_paid(
                db.session, invoice_id, staff_user_id=None, now=now()
            ),
        ),
    )
    assert consistent(app, order_id) in {
        ("cancelled", "void", 0),
        ("fulfilled", "paid", 1),
    }


@pytest.mark.parametrize("attempt", range(3))
def test_expiring_and_marking_paid_at_once_leave_the_invoice_one_or_the_other(app, owner, attempt):
    order_id, invoice_id = invoiced_order(owner)
    with app.app_context():
        db.session.get(Document, invoice_id).due_on = now().date() - timedelta(days=1)
        db.session.commit()
    at_once(
        in_context(
            app, lambda: invoices.expire_invoices(db.session, today=now().date(), now=now())
        ),
        in_context(
            app,
            lambda: invoices.mark_invoice_paid(
                db.session, invoice_id, staff_user_id=None, now=now()
            ),
        ),
    )
    assert consistent(app, order_id) in {
        ("cancelled", "expired", 0),
        ("fulfilled", "paid", 1),
    }


def test_a_cancelled_card_order_can_no_longer_be_paid_at_stripe(app, owner, stripe_server):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    assert owner.submit(f"/orders/{order_id}", f"/orders/{order_id}/cancel").status_code == 303
    assert state(app)["orders"] == ["cancelled"]
    with pytest.raises(StripeServerError):  # Stripe's page would refuse to take the money
        stripe_server.complete(session_id, "paid", deliver=False)


def test_cancelling_a_card_order_already_paid_says_the_confirmation_is_on_its_way(
    app, owner, stripe_server
):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    stripe_server.complete(session_id, "paid", deliver=False)  # paid; the webhook is late
    refused = owner.submit(f"/orders/{order_id}?lang=en", f"/orders/{order_id}/cancel")
    assert refused.status_code == 409
    assert state(app)["orders"] == ["pending_payment"]  # the webhook (or reconcile) fulfils it
