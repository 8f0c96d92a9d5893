"""``flask demo load``: a believable office in an empty portal, never over real clients."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.catalog.current import current_catalog
from portal.clock import today_in
from portal.extensions import db
from portal.models import CallbackRequest, Document, Order, SubscriptionPeriod, User


def load(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "load", *args])


def test_a_demo_office_tells_every_story_a_newcomer_should_see(make_app, tmp_path):
    app = make_app(OUTBOX_DIR=str(tmp_path / "outbox"))
    result = load(app, "--json")
    assert result.exit_code == 0, result.output
    accounts = json.loads(result.output)
    assert {a["role"] for a in accounts} == {"staff", "admin", "owner", "member"}
    assert len({a["password"] for a in accounts}) == 1
    with app.app_context():
        today = today_in(current_catalog().timezone)
        periods = db.session.scalars(select(SubscriptionPeriod)).all()
        ends = sorted((p.end - today).days for p in periods)
        # Lapsed 20 days ago; renewed (the first period ended 3 days ago, the second runs);
        # ending in a week.
        assert ends[0] == -20 and -3 in ends and 7 in ends and max(ends) > 7
        states = sorted(d.status for d in db.session.scalars(select(Document)))
        assert states.count("paid") == 4 and states.count("open") == 1
        assert db.session.scalar(select(Order).where(Order.kind == "renewal")) is not None
        assert len(db.session.scalars(select(CallbackRequest)).all()) == 2
        staff = db.session.scalars(select(User).where(User.role.in_(("staff", "admin")))).all()
        assert sorted(u.role for u in staff) == ["admin", "staff"]
    ending = next(
        a
        for a in accounts
        if a["period"] and a["period"].endswith((today + timedelta(days=7)).isoformat())
    )
    assert ending["role"] == "owner" and ending["plan"] == "optima"


def test_a_second_load_is_refused_and_changes_nothing(make_app, tmp_path):
    app = make_app(OUTBOX_DIR=str(tmp_path / "outbox"))
    assert load(app).exit_code == 0
    with app.app_context():
        users = len(db.session.scalars(select(User)).all())
    again = load(app)
    assert again.exit_code == 1
    assert "the database already holds client organizations" in again.output
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == users


@pytest.mark.parametrize("catalog", ["iiko", "iotex", "crystals", "kvartplata"])
def test_every_bundled_catalog_gets_a_demo_office(make_app, tmp_path, catalog):
    app = make_app(PORTAL_CATALOG=catalog, OUTBOX_DIR=str(tmp_path / "outbox"))
    result = load(app)
    assert result.exit_code == 0, result.output
    assert f"Demo office for the {catalog} catalog" in result.output


@pytest.mark.parametrize(("catalog", "technicians"), [("iotex", 1), ("iiko", 1), ("kbs", 0)])
def test_where_the_catalog_books_visits_the_demo_staff_member_is_a_technician(
    make_app, tmp_path, catalog, technicians
):
    from portal.models import Technician

    app = make_app(PORTAL_CATALOG=catalog, OUTBOX_DIR=str(tmp_path / "outbox"))
    assert load(app).exit_code == 0
    with app.app_context():
        rows = db.session.scalars(select(Technician)).all()
        assert len(rows) == technicians
        assert all(row.user.email == f"staff@{catalog}-demo.example" for row in rows)
