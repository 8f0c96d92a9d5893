"""The audit log: every admin and staff action on money, accounts and the catalog leaves an
entry with who, when, and the values before and after; admins read it a page at a time,
filtered and searched, and as CSV; nobody else finds the page."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Document
from tests.seed import seed
from tests.web.conftest import visible_text


@pytest.fixture
def admin(app, make_user, form_client):
    account = make_user("root@example.com", role="admin", name="Admin")
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    return forms


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def open_invoices(app, count: int) -> list[tuple[int, str, int]]:
    """``count`` organizations with a pending order and its open invoice: (id, number, order)."""
    with app.app_context():
        seed(db.session, count)
        rows = db.session.execute(
            sa.select(Document.id, Document.number, Document.order_id).where(
                Document.kind == "invoice", Document.status == "open"
            )
        ).all()
        return [tuple(row) for row in rows]


def test_marking_an_invoice_paid_and_recording_its_refund_leave_entries(app, desk, admin):
    ((invoice, number, order),) = open_invoices(app, 1)
    assert desk.submit("/staff/invoices", f"/staff/invoices/{invoice}/paid").status_code == 303
    assert desk.submit(f"/orders/{order}", f"/staff/orders/{order}/refund").status_code == 303
    paid, refunded = entries(app)
    assert (paid.action, paid.subject, paid.actor) == ("invoice.paid", number, "agent@example.com")
    assert json.loads(paid.before)["invoice"] == "open"
    assert json.loads(paid.after)["invoice"] == "paid"
    assert (refunded.action, refunded.subject) == ("order.refunded", f"#{order}")
    assert json.loads(refunded.after)["order"] == "refunded"
    assert paid.organization_id is not None and paid.actor_id is not None

    page = visible_text(admin.client.get("/admin/audit").get_data(as_text=True))
    assert "Invoice marked paid: " + number in page and "Refund recorded" in page
    assert "agent@example.com" in page


def test_marking_it_again_records_nothing_more(app, desk):
    ((invoice, _number, _order),) = open_invoices(app, 1)
    for _ in range(2):
        desk.submit("/staff/invoices", f"/staff/invoices/{invoice}/paid")
    assert [e.action for e in entries(app)] == ["invoice.paid"]


def test_the_command_line_is_named_as_the_actor(app, runner, admin):
    created = runner.invoke(
        args=["users", "create", "desk@example.com", "--name", "Desk"], input="p4ssw0rd!\n" * 2
    )
    assert created.exit_code == 0, created.output
    published = runner.invoke(args=["catalog", "publish", "iotex"])
    assert published.exit_code == 0, published.output
    user, catalog = [e for e in entries(app) if e.actor == "command line"]
    assert (user.action, user.subject, json.loads(user.after)) == (
        "user.created",
        "desk@example.com",
        {"role": "staff"},
    )
    assert (catalog.action, catalog.subject) == ("catalog.published", "iotex 1")
    again = runner.invoke(args=["catalog", "publish", "iotex"])
    assert again.exit_code == 0
    assert len([e for e in entries(app) if e.action == "catalog.published"]) == 1, "unchanged"


def test_the_log_is_filtered_by_action_searched_and_exported(app, desk, admin, runner):
    invoices = open_invoices(app, 3)
    for invoice, _number, _order in invoices:
        desk.submit("/staff/invoices", f"/staff/invoices/{invoice}/paid")
    runner.invoke(args=["catalog", "publish", "iotex"])
    only_paid = admin.client.get("/admin/audit?action=invoice.paid").get_data(as_text=True)
    assert only_paid.count('data-audit="invoice.paid"') == 3
    assert 'data-audit="catalog.published"' not in only_paid
    one = admin.client.get(f"/admin/audit?q={invoices[1][1]}").get_data(as_text=True)
    assert one.count("data-audit=") == 1
    exported = admin.client.get("/admin/audit.csv?action=invoice.paid")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["at", "actor", "action", "subject", "organization", "before", "after"]
    assert sorted(r[3] for r in rows[1:]) == sorted(number for _i, number, _o in invoices)
    assert admin.client.get("/admin/audit?action=nonsense").status_code == 200


def test_the_page_costs_the_same_queries_with_more_entries(app, desk, admin):
    from tests.web.test_lists import counting

    invoices = open_invoices(app, 30)
    desk.submit("/staff/invoices", f"/staff/invoices/{invoices[0][0]}/paid")

    def statements():
        admin.client.get("/admin/audit")
        with counting(app) as seen:
            assert admin.client.get("/admin/audit").status_code == 200
        return len(seen)

    before = statements()
    for invoice, _number, _order in invoices[1:]:
        desk.submit("/staff/invoices", f"/staff/invoices/{invoice}/paid")
    assert statements() == before


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv"])
def test_only_admins_find_the_log(app, path, desk, make_organization, form_client):
    assert app.test_client().get(path).status_code in (302, 303)
    assert desk.client.get(path).status_code == 404
    org = make_organization("Acme", "owner@acme.example")
    client = form_client(app.test_client())
    client.sign_in(org.owner.email)
    assert client.client.get(path).status_code == 404
