"""What the catalog draft's tests share: a client organization with a period, and the requests
a person's browser sends to the draft pages (the admins signed in are ``admin`` and
``second_admin``, fixtures of ``conftest``)."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, CatalogDraft
from tests.web.conftest import PASSWORD
from tests.web.conftest import visible_text as page_text

CELL = "plans.optima.terms.7m"
# A light admin page to read the session's CSRF token from (the draft page renders every grid).
TOKEN_PAGE = "/admin/audit"


def visible_text(html: str) -> str:
    """What a person reads, without the isolates that keep an address in its direction."""
    return page_text(html).replace("\u2068", "").replace("\u2069", "")


def started(admin):
    assert admin.client.get("/admin/catalog/draft").status_code == 200
    response = admin.submit(TOKEN_PAGE, "/admin/catalog/draft")
    assert response.status_code == 303
    return admin


def save_cell(admin, path, typed, was, htmx=True):
    token = admin.token(TOKEN_PAGE)
    headers = {"HX-Request": "true", "HX-Target": "cell"} if htmx else {}
    return admin.client.post(
        f"/admin/catalog/draft/cells?path={path}",
        data={"csrf_token": token, f"cell.{path}": typed, f"was.{path}": was},
        headers=headers,
    )


def draft_value(app, path):
    from portal.plans import editing

    with app.app_context():
        source = db.session.scalar(sa.select(CatalogDraft.source))
        return editing.shown(editing.value_at(editing.read(source), path))


def actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]


def quote_total(client, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"plan": "optima", "term": "7m", **params}.items())
    return client.get(f"/api/v1/quote?{query}").json["total"]


def publish(admin, **fields):
    return admin.submit(TOKEN_PAGE, "/admin/catalog/draft/publish", {"when": "now", **fields})


def client_with_a_period(app, acme, form_client, make_user):
    """Acme's owner bought OPTIMA for 7 months from today (22 November 2026, to 21 June 2027)."""
    from tests.web.test_orders import mark_paid, pay_by_invoice, place

    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    placed = place(client, plan="optima", term="7m")
    invoice = pay_by_invoice(client, app, int(placed.location.rsplit("/", 1)[1]))
    mark_paid(app, invoice.id, make_user("desk@example.com", role="staff").id)
    return client


def price_mails(mails):
    """The renewal price notices (in Ukrainian, the organization's language)."""
    return [m for m in mails() if "Ціна продовження" in m["Subject"]]


def make_organization_client(app, form_client):
    from portal.accounts import services as accounts
    from portal.clock import now

    with app.app_context():
        registration = accounts.Registration(
            organization=accounts.OrganizationProfile(
                name="Newcomer",
                language="en",
                timezone="Europe/Kyiv",
                tax_number="38123456",
                address="1 Khreshchatyk St, Kyiv",
            ),
            name="New Owner",
            email="new@newcomer.example",
            password=PASSWORD,
        )
        owner = accounts.register(db.session, registration, now())
        accounts.confirm_email(db.session, owner, now())
    browser = form_client(app.test_client())
    browser.sign_in("new@newcomer.example")
    return browser
