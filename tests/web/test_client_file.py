"""The client file: one organization's periods, orders, documents, tickets and visits on its
staff page, the latest of each, at a fixed number of queries however long its history."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Document, Order
from tests.seed import give_plan, seed
from tests.web.conftest import visible_text
from tests.web.test_lists import counting


def test_the_staff_page_of_an_organization_holds_its_history(app, desk):
    with app.app_context():
        (org_id,) = seed(db.session, 1)
        give_plan(db.session, org_id, "optima", date(2026, 1, 1), date(2026, 12, 31))
        number = db.session.scalar(
            sa.select(Document.number).where(Document.organization_id == org_id)
        )
    page = f"/staff/organizations/{org_id}?lang=en"
    text = visible_text(desk.client.get(page).get_data(as_text=True))
    for heading in ("Periods", "Orders", "Documents", "Tickets"):
        assert heading in text
    assert "OPTIMA" in text and number in text
    assert "No ticket yet." in text


def test_a_long_history_costs_the_same_queries_and_shows_the_latest(app, desk):
    with app.app_context():
        (org_id,) = seed(db.session, 1)
    page = f"/staff/organizations/{org_id}?lang=en"

    def statements():
        desk.client.get(page)
        with counting(app) as seen:
            assert desk.client.get(page).status_code == 200
        return len(seen)

    before = statements()
    with app.app_context():
        for n in range(14):
            give_plan(
                db.session, org_id, "optima", date(2020 + n % 6, 1, 1), date(2020 + n % 6, 1, 31)
            )
        orders = db.session.scalar(
            sa.select(sa.func.count(Order.id)).where(Order.organization_id == org_id)
        )
    assert statements() == before
    text = visible_text(desk.client.get(page).get_data(as_text=True))
    assert f"The latest 10 of {orders}." in text
