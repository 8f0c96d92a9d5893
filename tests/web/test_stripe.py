"""Card payment through Stripe Checkout, end to end against a real Stripe-compatible server.

``stripe_server`` is localstripe with the test suite's Checkout extension, on
loopback. The portal makes its real stripe-python calls to it and checks real
signatures; the tests deliver the signed events it produced through the test
client, or hold them back (a lost webhook), or deliver them twice, or out of order.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import date
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Document, Order, StripeEvent, SubscriptionPeriod

WEBHOOK = "/billing/stripe/webhook"


@pytest.fixture
def app(make_app, outbox, stripe_server):
    stripe_server.configure(webhook_url=None)  # the tests deliver events themselves
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


def order_optima_7m(owner) -> int:
    summary = owner.client.get("/orders/new?plan=optima&term=7m").get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', summary))
    hidden.pop("csrf_token")
    response = owner.submit("/orders/new?plan=optima&term=7m", "/orders", hidden)
    assert response.status_code == 303
    return int(response.location.rsplit("/", 1)[1])


def pay_by_card(owner, order_id: int) -> str:
    """Click 'Pay by card': the Checkout Session's id, from the address Stripe's page has."""
    response = owner.submit(f"/orders/{order_id}", f"/orders/{order_id}/card")
    assert response.status_code == 303, response.get_data(as_text=True)
    session_id = response.location.rstrip("/").rsplit("/", 1)[1]
    assert session_id.startswith("cs_")
    return session_id


def deliver(client, sent: dict, payload: str | None = None, signature: str | None = None):
    """Post the event the server signed, as Stripe would (or a variation of it)."""
    return client.post(
        WEBHOOK,
        data=(payload or sent["payload"]).encode(),
        headers={
            "Stripe-Signature": signature or sent["signature"],
            "Content-Type": "application/json",
        },
    )


def state(app) -> dict:
    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).all()
        return {
            "orders": [o.status for o in orders],
            "periods": db.session.scalar(select(func.count()).select_from(SubscriptionPeriod)),
            "receipts": db.session.scalars(
                select(Document.number).where(Document.kind == "receipt")
            ).all(),
            "events": db.session.scalar(select(func.count()).select_from(StripeEvent)),
        }


def test_paying_by_card_creates_a_session_from_the_locked_order(app, owner, stripe_server):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    client = stripe.StripeClient(
        stripe_server.secret_key, base_addresses={"api": stripe_server.url}
    )
    session = client.v1.checkout.sessions.retrieve(session_id)
    assert session.amount_total == 4074000  # kopecks
    assert session.currency == "uah"
    assert session.client_reference_id == str(order_id)
    assert session.metadata["order_id"] == str(order_id)
    assert pay_by_card(owner, order_id) == session_id  # the idempotency key: one session
    assert state(app)["orders"] == ["pending_payment"]


def test_the_period_starts_only_when_the_signed_webhook_arrives(app, owner, stripe_server):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    sent = stripe_server.complete(session_id, "paid", deliver=False)
    page = owner.client.get(f"/orders/{order_id}/paid?session_id={session_id}")
    assert 'data-status="pending_payment"' in page.get_data(as_text=True)
    assert state(app)["periods"] == 0

    response = deliver(app.test_client(), sent)
    assert response.status_code == 200
    assert state(app) == {
        "orders": ["fulfilled"],
        "periods": 1,
        "receipts": ["RCT-000001"],
        "events": 1,
    }
    status = owner.client.get(f"/orders/{order_id}/status").get_data(as_text=True)
    assert 'data-status="fulfilled"' in status
    with app.app_context():
        period = db.session.scalars(select(SubscriptionPeriod)).one()
        assert (period.start, period.end) == (date(2026, 11, 22), date(2027, 6, 21))


def test_paying_again_while_the_confirmation_is_late_says_it_is_on_its_way(
    app, owner, stripe_server
):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    stripe_server.complete(session_id, "paid", deliver=False)  # the webhook is late
    again = owner.submit(f"/orders/{order_id}?lang=en", f"/orders/{order_id}/card")
    assert again.status_code == 409
    assert "paid by card already; the confirmation is on its way" in again.get_data(as_text=True)
    assert state(app)["periods"] == 0  # still only the webhook (or reconcile) starts it


def test_paying_again_in_another_language_goes_back_to_the_same_session(app, owner, stripe_server):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    owner.client.set_cookie("lang", "en")  # Checkout's locale differs from the first time
    assert pay_by_card(owner, order_id) == session_id


def test_a_session_that_expired_unpaid_is_replaced_by_a_new_one(app, owner, stripe_server):
    order_id = order_optima_7m(owner)
    first = pay_by_card(owner, order_id)
    with app.app_context():
        original_key = db.session.get(Order, order_id).checkout_key
    stripe_server.expire(first, deliver=False)  # expired at Stripe; the event not yet here
    other_tab = pay_by_card(owner, order_id)  # a click seeing the expired session...
    with app.app_context():  # ...and another that saw it before the first one committed
        order = db.session.get(Order, order_id)
        order.checkout_key, order.stripe_session_id = original_key, first
        db.session.commit()
    second = pay_by_card(owner, order_id)
    assert second == other_tab != first  # one new session, whichever click made it
    assert state(app)["orders"] == ["pending_payment"]


def test_the_same_event_delivered_twice_fulfils_once(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    sent = stripe_server.complete(session_id, "paid", deliver=False)
    first, second = deliver(app.test_client(), sent), deliver(app.test_client(), sent)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json()["outcome"] == "duplicate"
    assert state(app)["periods"] == 1 and state(app)["receipts"] == ["RCT-000001"]


def test_two_events_out_of_order_leave_one_period(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    completed = stripe_server.complete(session_id, "async_pending", deliver=False)
    succeeded = stripe_server.complete(session_id, "async_succeeded", deliver=False)
    # The later event first: the portal reads the session back and sees it paid.
    assert deliver(app.test_client(), succeeded).get_json()["outcome"] == "fulfilled"
    assert deliver(app.test_client(), completed).get_json()["outcome"] == "already_fulfilled"
    assert state(app)["orders"] == ["fulfilled"] and state(app)["periods"] == 1


def test_an_async_payment_that_fails_cancels_the_order(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    completed = stripe_server.complete(session_id, "async_pending", deliver=False)
    assert deliver(app.test_client(), completed).get_json()["outcome"] == "awaiting_payment"
    failed = stripe_server.complete(session_id, "async_failed", deliver=False)
    assert deliver(app.test_client(), failed).get_json()["outcome"] == "payment_failed"
    assert state(app)["orders"] == ["cancelled"] and state(app)["periods"] == 0


def test_a_tampered_body_is_refused_and_changes_nothing(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    sent = stripe_server.complete(session_id, "paid", deliver=False)
    tampered = sent["payload"].replace('"livemode": false', '"livemode": true')
    tampered = tampered if tampered != sent["payload"] else sent["payload"] + " "
    response = deliver(app.test_client(), sent, payload=tampered)
    assert response.status_code == 400
    assert state(app) == {"orders": ["pending_payment"], "periods": 0, "receipts": [], "events": 0}


def test_a_stale_timestamp_is_refused(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    sent = stripe_server.complete(session_id, "paid", deliver=False)
    stale = int(time.time()) - 3600
    mac = hmac.new(
        stripe_server.webhook_secret.encode(),
        f"{stale}.{sent['payload']}".encode(),
        hashlib.sha256,
    ).hexdigest()
    response = deliver(app.test_client(), sent, signature=f"t={stale},v1={mac}")
    assert response.status_code == 400
    assert state(app)["events"] == 0 and state(app)["periods"] == 0


def test_a_missing_signature_is_refused(app):
    response = app.test_client().post(WEBHOOK, data=b'{"id": "evt_1"}')
    assert response.status_code == 400


def test_an_event_for_a_session_no_order_knows_changes_nothing(app, owner, stripe_server):
    order_optima_7m(owner)
    client = stripe.StripeClient(
        stripe_server.secret_key, base_addresses={"api": stripe_server.url}
    )
    stranger = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "http://example.invalid/ok",
            "cancel_url": "http://example.invalid/no",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "uah",
                        "unit_amount": 100,
                        "product_data": {"name": "x"},
                    },
                }
            ],
        }
    )
    sent = stripe_server.complete(stranger.id, "paid", deliver=False)
    response = deliver(app.test_client(), sent)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "unknown_session"
    assert state(app)["orders"] == ["pending_payment"] and state(app)["periods"] == 0


def test_a_declined_card_leaves_the_order_awaiting_payment(app, owner, stripe_server):
    order_id = order_optima_7m(owner)
    session_id = pay_by_card(owner, order_id)
    sent = stripe_server.complete(session_id, "declined", deliver=False)
    assert sent["event"] is None  # a declined card sends nothing
    assert app.test_cli_runner().invoke(args=["billing", "reconcile"]).exit_code == 0
    assert state(app)["orders"] == ["pending_payment"] and state(app)["periods"] == 0


def test_an_expired_session_expires_the_order(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    sent = stripe_server.expire(session_id, deliver=False)
    assert deliver(app.test_client(), sent).get_json()["outcome"] == "expired"
    assert state(app)["orders"] == ["expired"] and state(app)["periods"] == 0


def test_a_lost_webhook_is_made_good_by_reconcile(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    late = stripe_server.complete(session_id, "paid", deliver=False)  # never delivered...
    result = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert result.exit_code == 0 and ": fulfilled" in result.output
    assert state(app)["orders"] == ["fulfilled"] and state(app)["periods"] == 1
    # ...until it arrives after all: nothing counted twice.
    assert deliver(app.test_client(), late).get_json()["outcome"] == "already_fulfilled"
    again = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert "0 order(s) checked" in again.output
    assert state(app)["periods"] == 1 and state(app)["receipts"] == ["RCT-000001"]


def test_the_receipt_is_listed_and_downloadable_on_the_account_page(app, owner, stripe_server):
    session_id = pay_by_card(owner, order_optima_7m(owner))
    deliver(app.test_client(), stripe_server.complete(session_id, "paid", deliver=False))
    html = owner.client.get("/account?lang=en").get_data(as_text=True)
    assert 'data-document="RCT-000001"' in html
    link = re.search(
        r'href="(/documents/\d+\.pdf)" download="RCT-000001.pdf">Receipt RCT-000001', html
    ).group(1)
    assert owner.client.get(link).data.startswith(b"%PDF")


def test_a_catalog_in_rials_offers_no_card(
    make_app, outbox, stripe_server, make_organization, form_client
):
    app = make_app(
        OUTBOX_DIR=str(outbox),
        PORTAL_CATALOG="iotex",
        STRIPE_SECRET_KEY=stripe_server.secret_key,
        STRIPE_API_BASE=stripe_server.url,
        STRIPE_WEBHOOK_SECRET=stripe_server.webhook_secret,
    )
    client = form_client(app.test_client())
    org = make_organization("Pars", "owner@pars.example", language="fa", timezone="Asia/Tehran")
    client.sign_in(org.owner.email)
    query = "plan=basic&term=1y&licence_value=1000000000"
    summary = client.client.get(f"/orders/new?{query}").get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', summary))
    hidden.pop("csrf_token")
    order_id = int(
        client.submit(f"/orders/new?{query}", "/orders", hidden).location.rsplit("/")[-1]
    )
    page = client.client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-pay="card"' not in page and 'data-pay="bank-transfer"' in page
    assert client.submit(f"/orders/{order_id}", f"/orders/{order_id}/card").status_code == 404
    with app.app_context():
        assert db.session.scalars(select(Order.total)).one() == Decimal(
            "250000000"
        )  # 25% of the licence value
