"""Who sees an organization's orders and documents: its own users and staff; anyone else 404.

Every organization-owned route and download, asked by a user of another
organization, gives 404; asked signed out, a redirect to sign in; never the data.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Document, Order

# (method, path template): {order} and {document} are Acme's.
OWNED_ROUTES = [
    ("GET", "/orders/{order}"),
    ("GET", "/orders/{order}/status"),
    ("GET", "/orders/{order}/paid"),
    ("GET", "/orders/{order}/checkout-cancelled"),
    ("POST", "/orders/{order}/cancel"),
    ("POST", "/orders/{order}/invoice"),
    ("POST", "/orders/{order}/card"),
    ("GET", "/documents/{document}.pdf"),
]


@pytest.fixture
def acme_order(app, make_organization, form_client):
    """Acme (owner signed in on its own client) with an order and its invoice."""
    acme = make_organization("Acme", "owner@acme.example")
    owner = form_client(app.test_client())
    owner.sign_in(acme.owner.email)
    summary = owner.client.get("/orders/new?plan=optima&term=7m").get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', summary))
    hidden.pop("csrf_token")
    assert owner.submit("/orders/new?plan=optima&term=7m", "/orders", hidden).status_code == 303
    with app.app_context():
        order_id = db.session.scalars(select(Order.id)).one()
    owner.submit(f"/orders/{order_id}", f"/orders/{order_id}/invoice")
    with app.app_context():
        document_id = db.session.scalars(select(Document.id)).one()
    return {"order": order_id, "document": document_id}


def ask(client, method: str, path: str):
    if method == "GET":
        return client.client.get(path)
    return client.submit("/", path)


@pytest.mark.parametrize(
    ("method", "path"), OWNED_ROUTES, ids=[f"{m} {p}" for m, p in OWNED_ROUTES]
)
def test_another_organizations_user_gets_404(
    app, make_organization, form_client, acme_order, method, path
):
    globex = make_organization("Globex", "owner@globex.example")
    intruder = form_client(app.test_client())
    intruder.sign_in(globex.owner.email)
    response = ask(intruder, method, path.format(**acme_order))
    assert response.status_code == 404
    assert b"OPTIMA" not in response.data and b"INV-" not in response.data


@pytest.mark.parametrize(
    ("method", "path"), OWNED_ROUTES, ids=[f"{m} {p}" for m, p in OWNED_ROUTES]
)
def test_signed_out_visitors_are_sent_to_sign_in(app, form_client, acme_order, method, path):
    visitor = form_client(app.test_client())
    response = ask(visitor, method, path.format(**acme_order))
    assert response.status_code == 302
    assert "/login" in response.location
    assert b"INV-" not in response.data


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/orders/{order}", 200, id="staff see the order"),
        pytest.param("/documents/{document}.pdf", 200, id="staff download the invoice"),
        pytest.param("/staff/invoices", 200, id="staff see the invoices awaiting payment"),
    ],
)
def test_staff_see_every_organizations_orders(
    app, make_user, form_client, acme_order, path, status
):
    make_user("desk@example.com", role="staff")
    desk = form_client(app.test_client())
    desk.sign_in("desk@example.com")
    assert desk.client.get(path.format(**acme_order)).status_code == status


def test_clients_do_not_see_the_staff_invoice_page(app, form_client, make_organization, acme_order):
    globex = make_organization("Globex", "owner@globex.example")
    client = form_client(app.test_client())
    client.sign_in(globex.owner.email)
    assert client.client.get("/staff/invoices").status_code == 404
    assert client.submit("/", "/staff/invoices/1/paid").status_code == 404


def id_routes(app) -> list[tuple[str, str]]:
    """Every route that takes a row id, as (method, path) with a huge id in it."""
    routes = []
    for rule in app.url_map.iter_rules():
        if any(rule._converters[name].__class__.__name__ == "RowId" for name in rule.arguments):
            path = re.sub(r"<id:\w+>", "99999999999999999999", rule.rule)
            routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


@pytest.mark.parametrize("who", ["client", "staff"])
def test_an_id_no_database_can_hold_is_a_404_on_every_route(
    app, make_organization, make_user, form_client, who
):
    person = form_client(app.test_client())
    if who == "client":
        person.sign_in(make_organization("Acme", "owner@acme.example").owner.email)
    else:
        person.sign_in(make_user("desk@example.com", role="staff").email)
    routes = id_routes(app)
    assert len(routes) >= 12
    for method, path in routes:
        assert ask(person, method, path).status_code == 404, (method, path)


@pytest.mark.parametrize("path", ["/orders/999999", "/documents/999999.pdf", "/orders/x"])
def test_unknown_orders_and_documents_are_404(app, make_organization, form_client, path):
    acme = make_organization("Acme", "owner@acme.example")
    owner = form_client(app.test_client())
    owner.sign_in(acme.owner.email)
    assert owner.client.get(path).status_code == 404


# --- who may order, pay and cancel: the owner and billing members ---------------------------

PAYING_ROUTES = [
    ("POST", "/orders/{order}/cancel"),
    ("POST", "/orders/{order}/invoice"),
    ("POST", "/orders/{order}/card"),
]


@pytest.fixture
def acme_people(app, make_organization, form_client):
    """Acme with an order awaiting payment, a member and a billing member signed in."""
    acme = make_organization(
        "Acme", "owner@acme.example", members=["member@acme.example", "bills@acme.example"]
    )
    owner = form_client(app.test_client())
    owner.sign_in(acme.owner.email)
    bills = acme.members[1]
    owner.submit("/account", f"/account/members/{bills.id}/role", {"role": "billing"})
    summary = owner.client.get("/orders/new?plan=optima&term=7m").get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', summary))
    hidden.pop("csrf_token")
    owner.submit("/orders/new?plan=optima&term=7m", "/orders", hidden)
    with app.app_context():
        order_id = db.session.scalars(select(Order.id)).one()
    signed_in = {}
    for name, person in (("member", acme.members[0]), ("billing", bills)):
        signed_in[name] = form_client(app.test_client())
        signed_in[name].sign_in(person.email)
    return {"order": order_id, "hidden": hidden, **signed_in}


@pytest.mark.parametrize(("method", "path"), PAYING_ROUTES, ids=[p for _, p in PAYING_ROUTES])
def test_a_member_sees_the_order_but_cannot_pay_or_cancel_it(app, acme_people, method, path):
    member = acme_people["member"]
    order = acme_people["order"]
    page = member.client.get(f"/orders/{order}?lang=en")
    assert page.status_code == 200
    assert "Orders are placed, paid and cancelled by the organization" in page.get_data(
        as_text=True
    )
    refused = member.submit(f"/orders/{order}", path.format(order=order))
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(Order, order).status == "pending_payment"


def test_a_member_cannot_place_an_order(app, acme_people):
    member = acme_people["member"]
    summary = member.client.get("/orders/new?plan=optima&term=12m&lang=en")
    assert summary.status_code == 200
    assert "data-confirm-order" not in summary.get_data(as_text=True)
    hidden = {**acme_people["hidden"], "term": "12m"}
    assert member.submit("/orders/new?plan=optima&term=12m", "/orders", hidden).status_code == 403


def test_a_billing_member_cancels_the_organizations_order(app, acme_people):
    billing = acme_people["billing"]
    order = acme_people["order"]
    response = billing.submit(f"/orders/{order}", f"/orders/{order}/cancel")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Order, order).status == "cancelled"


def test_a_billing_member_gets_the_invoice(app, acme_people):
    billing = acme_people["billing"]
    order = acme_people["order"]
    assert billing.submit(f"/orders/{order}", f"/orders/{order}/invoice").status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Document.kind)).all() == ["invoice"]
