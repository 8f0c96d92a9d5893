"""Publishing the catalog draft: now or from midnight in the catalog's zone, never a draft
that changes nothing or would undo a later version; orders keep the price they were placed
at; clients whose renewal price changes are told once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.billing.orders import order_total
from portal.extensions import db
from portal.models import AuditEntry, CatalogDraft, CatalogVersion, Order, SubscriptionPeriod
from portal.plans.loading import CATALOG_DIR
from tests.conftest import FIXED_NOW
from tests.web.drafting import (
    CELL,
    actions,
    client_with_a_period,
    draft_value,
    price_mails,
    publish,
    quote_total,
    save_cell,
    started,
    visible_text,
)

# --- publishing ------------------------------------------------------------------------------


def test_an_order_pending_when_a_price_changes_keeps_its_price_and_a_new_quote_has_the_new(
    app, admin, acme, form_client, make_user
):
    from tests.web.test_orders import mark_paid, pay_by_invoice, place

    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    placed = place(client, plan="optima", term="7m")
    order_id = int(placed.location.rsplit("/", 1)[1])
    started(admin)
    assert save_cell(admin, CELL, "44000", "40740").status_code == 200
    assert publish(admin).status_code == 303
    assert quote_total(app.test_client()) == "44000.00"
    invoice = pay_by_invoice(client, app, order_id)
    assert invoice.total == Decimal("40740.00")
    mark_paid(app, invoice.id, make_user("desk@example.com", role="staff").id)
    with app.app_context():
        period = db.session.scalar(sa.select(SubscriptionPeriod))
        order = db.session.get(Order, period.order_id)
        assert (order.catalog_version, order_total(order)) == (1, Decimal("40740.00"))
    assert "catalog.published" in actions(app)


def test_publishing_makes_a_new_version_in_effect_and_ends_the_draft(app, admin):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    done = publish(admin)
    assert done.location.endswith("/admin/catalog")
    listing = visible_text(admin.client.get("/admin/catalog").get_data(as_text=True))
    assert "Version 2 is published and in effect." in listing
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CatalogDraft.id))) == 0
        (entry,) = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "catalog.published")
        )
        assert (entry.actor, json.loads(entry.after)["version"]) == ("root@example.com", 2)
    public = visible_text(app.test_client().get("/plans?term=7m&lang=en").get_data(as_text=True))
    assert "44,000" in public or "44 000" in public


def test_a_draft_that_changes_nothing_is_not_published(app, admin):
    started(admin)
    refused = publish(admin)
    assert refused.status_code == 303
    page = visible_text(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert "The draft changes nothing" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CatalogVersion.id))) == 1


def test_a_draft_started_before_another_version_was_published_is_not_published(app, admin):
    from portal.catalog import services

    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    with app.app_context():
        services.publish(
            db.session,
            (CATALOG_DIR / "kbs.toml").read_text().replace("1m = 2460", "1m = 2500"),
            "cli",
            FIXED_NOW,
        )
    publish(admin)
    page = visible_text(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert "Version 2 was published after this draft was started from version 1" in page
    assert draft_value(app, CELL) == "44000", "the draft is kept"


def test_a_version_published_from_a_day_takes_effect_at_midnight_in_kyiv(app, admin):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    done = publish(admin, when="day", publish_day="2027-01-01")
    assert done.status_code == 303
    with app.app_context():
        version = db.session.scalar(sa.select(CatalogVersion).where(CatalogVersion.version == 2))
        assert version.effective_at == datetime(2027, 1, 1, tzinfo=ZoneInfo("Europe/Kyiv"))
    public = app.test_client()
    comparison = visible_text(public.get("/plans?lang=en").get_data(as_text=True))
    assert "Prices change on 1 January 2027" in comparison
    assert quote_total(public) == "40740.00"
    app.config["CLOCK"] = lambda: datetime(2026, 12, 31, 22, 0, tzinfo=UTC)  # Kyiv's midnight
    assert quote_total(public) == "44000.00"
    assert "Prices change on" not in visible_text(
        public.get("/plans?lang=en").get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("day", "message"),
    [
        pytest.param("", "Type the day the prices change", id="no day"),
        pytest.param("2026-11-22", "Choose a day after today", id="today"),
        pytest.param(
            "2026-02-30", "Type the day the prices change", id="a day that does not exist"
        ),
    ],
)
def test_a_day_to_publish_from_that_cannot_be_is_refused(app, admin, day, message):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    refused = publish(admin, when="day", publish_day=day)
    assert refused.status_code == 422
    assert message in visible_text(refused.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CatalogVersion.id))) == 1


# --- the renewal price notice ----------------------------------------------------------------


def test_a_client_whose_renewal_price_changes_is_told_once_with_both_prices(
    app, admin, acme, form_client, make_user, mails
):
    client_with_a_period(app, acme, form_client, make_user)
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    publish(admin, when="day", publish_day="2027-01-01")
    (mail,) = price_mails(mails)
    assert mail["To"].addresses[0].addr_spec == acme.owner.email
    body = " ".join(mail.get_body(("plain",)).get_content().split())
    # The owner reads Ukrainian (the organization's language).
    assert "44 000,00" in body and "40 740,00" in body, body
    assert "1 січня 2027" in body
    with app.app_context():
        app.extensions["jobs"].run_by_hand("billing.price-notices")
    assert len(price_mails(mails)) == 1, "told once"
    assert actions(app).count("catalog.published") == 1


def test_a_price_change_that_leaves_a_renewal_price_as_it_was_mails_nobody(
    app, admin, acme, form_client, make_user, mails
):
    client_with_a_period(app, acme, form_client, make_user)
    started(admin)
    save_cell(admin, "plans.premium.terms.7m", "70000", "65940")
    publish(admin)
    assert price_mails(mails) == []


def test_notices_go_a_batch_at_a_time_and_a_second_run_tells_nobody_again(
    app, admin, make_organization, form_client, make_user, mails
):
    from portal.billing import price_notices
    from portal.billing.presentation import price_notice_mails
    from portal.catalog import services

    for name in ("Acme", "Globex", "Initech"):
        org = make_organization(name, f"owner@{name.lower()}.example")
        client_with_a_period(
            app,
            org,
            form_client,
            lambda *_a, name=name, **_k: make_user(f"desk-{name}@example.com", role="staff"),
        )
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    with app.app_context():
        services.publish(
            db.session,
            db.session.scalar(sa.select(CatalogDraft.source)),
            "test",
            FIXED_NOW,
        )

        def run():
            return price_notices.send_price_notices(
                db.session,
                "kbs",
                FIXED_NOW,
                lambda version: services.catalog_version(db.session, "kbs", version),
                price_notice_mails(),
                app.extensions["outbox"],
                batch=1,
            )

        told = run()
        assert sorted(n.organization for n in told) == ["Acme", "Globex", "Initech"]
        assert {(n.old_total, n.new_total) for n in told} == {
            (Decimal("40740.00"), Decimal("44000.00"))
        }
        assert run() == []
    assert len(price_mails(mails)) == 3


def test_the_notices_run_by_hand_from_the_command_line(
    app, admin, acme, form_client, make_user, mails
):
    client_with_a_period(app, acme, form_client, make_user)
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    with app.app_context():
        from portal.catalog import services

        services.publish(
            db.session, db.session.scalar(sa.select(CatalogDraft.source)), "cli", FIXED_NOW
        )
    result = app.test_cli_runner().invoke(args=["billing", "price-notices"])
    assert result.exit_code == 0, result.output
    assert "1 notice(s) written to the outbox" in result.output
    assert len(price_mails(mails)) == 1


def test_a_client_who_bought_at_the_new_prices_is_not_told_they_changed(
    app, admin, acme, form_client, make_user, mails
):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    publish(admin)
    client_with_a_period(app, acme, form_client, make_user)  # ordered at 44 000
    with app.app_context():
        app.extensions["jobs"].run_by_hand("billing.price-notices")
    assert price_mails(mails) == []


def test_the_command_line_cannot_publish_before_a_scheduled_version(app, admin):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    publish(admin, when="day", publish_day="2027-01-01")
    result = app.test_cli_runner().invoke(args=["catalog", "publish", "kbs"])
    assert result.exit_code == 1
    assert "a version scheduled for 2026-12-31T22:00:00+00:00 is not in effect yet" in result.output
