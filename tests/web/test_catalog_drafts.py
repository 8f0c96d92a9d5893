"""Admins edit the catalog in a draft: a grid cell saved as they leave it, refused with the
reason beside it, or refused because another admin changed it meanwhile; a bulk change
previewed before it enters the draft; the changes listed cell by cell; a preview of the
public page with the draft's prices; publishing now or from a day; import and export."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.billing.orders import order_total
from portal.extensions import db
from portal.models import AuditEntry, CatalogDraft, CatalogVersion, Order, SubscriptionPeriod
from portal.plans.loading import CATALOG_DIR
from tests.conftest import FIXED_NOW
from tests.web.conftest import PASSWORD, Page
from tests.web.conftest import visible_text as page_text

CELL = "plans.optima.terms.7m"


def visible_text(html: str) -> str:
    """What a person reads, without the isolates that keep an address in its direction."""
    return page_text(html).replace("\u2068", "").replace("\u2069", "")


@pytest.fixture
def admin(app, make_user, form_client):
    account = make_user("root@example.com", role="admin", name="Root")
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    return forms


@pytest.fixture
def second_admin(app, make_user, form_client):
    account = make_user("anna@example.com", role="admin", name="Anna")
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    return forms


def started(admin):
    assert admin.client.get("/admin/catalog/draft").status_code == 200
    response = admin.submit("/admin/catalog/draft", "/admin/catalog/draft")
    assert response.status_code == 303
    return admin


def save_cell(admin, path, typed, was, htmx=True):
    token = admin.token("/admin/catalog/draft")
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


def test_a_cell_saved_as_the_admin_leaves_it_enters_the_draft_and_the_diff(app, admin):
    started(admin)
    saved = save_cell(admin, CELL, "44 000", "40740")
    assert saved.status_code == 200
    cell = Page(saved.get_data(as_text=True))
    assert cell.value(f"cell.{CELL}") == "44000" and cell.value(f"was.{CELL}") == "44000"
    assert "Saved" in visible_text("<body>" + saved.get_data(as_text=True))
    assert draft_value(app, CELL) == "44000"
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert f"{CELL} 40,740 44,000" in changes
    assert actions(app)[-2:] == ["catalog.draft_started", "catalog.draft_edited"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param("forty", "Type a number", id="a word is not a price"),
        pytest.param("-5", "cannot be negative", id="a negative price is refused"),
        pytest.param("12.345", "two digits after", id="a third decimal is refused"),
    ],
)
def test_an_invalid_cell_is_refused_with_the_reason_beside_it(app, admin, typed, message):
    started(admin)
    refused = save_cell(admin, CELL, typed, "40740")
    assert refused.status_code == 422
    cell = Page(refused.get_data(as_text=True))
    error_id = CELL.replace(".", "-") + "-error"
    assert cell.inputs[f"cell.{CELL}"]["aria-describedby"] == error_id
    assert message in cell.text(error_id)
    assert cell.value(f"cell.{CELL}") == typed, "what was typed stays, to correct"
    assert draft_value(app, CELL) == "40740"


def test_a_cell_the_catalog_cannot_accept_is_refused_with_the_catalog_files_message(app, admin):
    started(admin)
    # The default term of every KBS plan is 1m: without its price the plan is not a catalog.
    refused = save_cell(admin, "plans.optima.terms.1m", "", "6420")
    assert refused.status_code == 422
    text = visible_text("<body>" + refused.get_data(as_text=True))
    assert "The catalog would not be valid" in text
    assert draft_value(app, "plans.optima.terms.1m") == "6420"


def test_a_stale_save_is_refused_with_what_the_other_admin_saved(app, admin, second_admin):
    started(admin)
    assert save_cell(second_admin, CELL, "45000", "40740").status_code == 200
    refused = save_cell(admin, CELL, "44000", "40740")
    assert refused.status_code == 409
    text = visible_text("<body>" + refused.get_data(as_text=True))
    assert "anna@example.com changed this to 45000" in text and "yours (40740)" in text
    assert Page(refused.get_data(as_text=True)).value(f"cell.{CELL}") == "45000"
    assert draft_value(app, CELL) == "45000", "theirs is kept"


# --- the bulk change --------------------------------------------------------------------------


def bulk(admin, confirm=False, previewed=None, **fields):
    data = {"plan": ["optima"], "table": ["terms"], "percent": "8", "step": "10", **fields}
    if confirm:
        data["confirm"] = "1"
        data.update(previewed or {})
    return admin.submit("/admin/catalog/draft", "/admin/catalog/draft/bulk", data)


def test_a_bulk_change_previews_every_new_cell_before_it_enters_the_draft(app, admin):
    started(admin)
    preview = bulk(admin)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    rows = re.findall(r'<tr data-path="(plans\.optima\.terms\.[^"]+)"', html)
    # Every OPTIMA term price, the budget year's too, 8% up and rounded to 10 UAH.
    assert len(rows) == 13
    text = visible_text(html)
    assert "OPTIMA Prices by term: 7 months 40,740 44,000" in text  # 40 740 × 1.08 = 43 999.2
    assert "OPTIMA Prices by term: 1 month 6,420 6,930" in text  # 6 933.6
    assert draft_value(app, CELL) == "40740", "a preview changes nothing"
    cells = {k: v for k, v in Page(html).inputs.items() if k.startswith(("cell.", "was."))}
    written = bulk(admin, confirm=True, previewed={k: v["value"] for k, v in cells.items()})
    assert written.status_code == 303
    assert draft_value(app, CELL) == "44000"
    assert draft_value(app, "plans.optima.terms.1m") == "6930"
    assert draft_value(app, "plans.prof.terms.7m") == "17220", "other plans keep their prices"


def test_a_bulk_change_over_a_cell_changed_since_its_preview_is_refused(app, admin, second_admin):
    started(admin)
    html = bulk(admin).get_data(as_text=True)
    cells = {k: v["value"] for k, v in Page(html).inputs.items() if k.startswith(("cell.", "was."))}
    assert save_cell(second_admin, CELL, "45000", "40740").status_code == 200
    refused = bulk(admin, confirm=True, previewed=cells)
    assert refused.status_code == 303
    assert "anna@example.com saved the draft" in visible_text(
        admin.client.get("/admin/catalog/draft").get_data(as_text=True)
    )
    assert draft_value(app, CELL) == "45000"
    assert draft_value(app, "plans.optima.terms.1m") == "6420", "nothing of the change is written"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param({"plan": []}, "plan", "Choose at least one plan", id="no plan"),
        pytest.param(
            {"percent": "eight"}, "percent", "Type a percentage", id="a word for a percentage"
        ),
        pytest.param(
            {"percent": "-100"}, "percent", "Between -100% and 1000%", id="prices to zero"
        ),
        pytest.param({"step": "0"}, "step", "Round to a positive amount", id="rounding to nothing"),
    ],
)
def test_a_bulk_change_asked_wrongly_says_what_is_wrong(app, admin, fields, field, message):
    started(admin)
    refused = bulk(admin, **fields)
    assert refused.status_code == 422
    assert message in visible_text(refused.get_data(as_text=True))


# --- publishing ------------------------------------------------------------------------------


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme", "owner@acme.example")


def quote_total(client, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"plan": "optima", "term": "7m", **params}.items())
    return client.get(f"/api/v1/quote?{query}").json["total"]


def publish(admin, **fields):
    return admin.submit(
        "/admin/catalog/draft", "/admin/catalog/draft/publish", {"when": "now", **fields}
    )


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


# --- import and export -----------------------------------------------------------------------

BUNDLED = ["kbs", "iiko", "iotex", "crystals", "kvartplata"]


def upload(admin, text: str, name: str = "catalog.toml"):
    return admin.submit(
        "/admin/catalog",
        "/admin/catalog/draft/import",
        {"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("name", BUNDLED)
def test_a_draft_exported_and_imported_again_is_the_same_catalog(
    make_app, make_user, form_client, name
):
    app = make_app(PORTAL_CATALOG=name)
    account = make_user("root@example.com", role="admin", name="Root")
    admin = form_client(app.test_client())
    admin.client.set_cookie("lang", "en")
    admin.sign_in(account.email)
    started(admin)
    exported = admin.client.get("/admin/catalog/draft.toml")
    assert exported.headers["Content-Disposition"] == f'attachment; filename="{name}-draft.toml"'
    text = exported.get_data(as_text=True)
    assert text == (CATALOG_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert upload(admin, text).status_code == 303
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "The draft is the same as the published version." in changes
    assert admin.client.get("/admin/catalog/draft.toml").get_data(as_text=True) == text


def test_an_edited_file_uploaded_becomes_the_draft_and_its_change_is_listed(app, admin):
    text = (CATALOG_DIR / "kbs.toml").read_text().replace("7m = 65940", "7m = 69000")
    assert upload(admin, text).location.endswith("/admin/catalog/draft/changes")
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "plans.premium.terms.7m 65,940 69,000" in changes
    assert actions(app)[-1] == "catalog.draft_imported"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[catalog\ncode = 1", "not valid TOML", id="not TOML"),
        pytest.param(
            (CATALOG_DIR / "kbs.toml").read_text().replace("7m = 40740", "13m = 40740"),
            "plans.optima.terms.13m months must be 1..12",
            id="a term the catalog files refuse, located",
        ),
        pytest.param(
            (CATALOG_DIR / "iiko.toml").read_text(),
            "This file is catalog “iiko”",
            id="another catalog",
        ),
    ],
)
def test_a_file_that_is_not_this_catalog_is_refused_with_where_and_why(app, admin, text, message):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    refused = upload(admin, text)
    assert refused.status_code == 303
    page = visible_text(admin.client.get("/admin/catalog").get_data(as_text=True))
    assert message in page
    assert draft_value(app, CELL) == "44000", "the draft there was is kept"


# --- sections --------------------------------------------------------------------------------


def test_a_section_edited_as_toml_is_saved_and_a_mistake_is_named_where_it_is(app, admin):
    started(admin)
    form = Page(admin.client.get("/admin/catalog/draft/sections/services").get_data(as_text=True))
    was = form.inputs["was"]["value"]
    text = was.replace("price = 1500.00", "price = 1650.00")
    saved = admin.submit(
        "/admin/catalog/draft/sections/services",
        "/admin/catalog/draft/sections/services",
        {"source": text, "was": was},
    )
    assert saved.status_code == 303
    assert draft_value(app, "services.hours.price") == "1650"
    refused = admin.submit(
        "/admin/catalog/draft/sections/services",
        "/admin/catalog/draft/sections/services",
        {"source": text.replace('kind = "hours"', 'kind = "minutes"'), "was": text},
    )
    assert refused.status_code == 422
    assert "services.hours.kind" in visible_text(refused.get_data(as_text=True))
    assert draft_value(app, "services.hours.price") == "1650"


def test_a_section_another_admin_saved_meanwhile_is_not_overwritten(app, admin, second_admin):
    started(admin)
    path = "/admin/catalog/draft/sections/services"
    was = Page(admin.client.get(path).get_data(as_text=True)).inputs["was"]["value"]
    theirs = was.replace("price = 1500.00", "price = 1700.00")
    assert second_admin.submit(path, path, {"source": theirs, "was": was}).status_code == 303
    refused = admin.submit(path, path, {"source": was.replace("1500.00", "1650.00"), "was": was})
    assert refused.status_code == 409
    assert "anna@example.com saved the draft" in visible_text(refused.get_data(as_text=True))
    assert draft_value(app, "services.hours.price") == "1700"


# --- the preview -----------------------------------------------------------------------------


def test_the_preview_shows_the_drafts_prices_to_the_admin_only(app, admin, acme, form_client):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    shown = admin.submit("/admin/catalog/draft", "/admin/catalog/draft/preview")
    assert shown.location.endswith("/plans") or shown.location.endswith("/")
    previewed = admin.client.get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert 'data-total="44000.00"' in previewed and "Preview:" in visible_text(previewed)
    public = app.test_client().get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert 'data-total="40740.00"' in public and "Preview:" not in visible_text(public)
    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    summary = client.client.get("/orders/new?plan=optima&term=7m&lang=en").get_data(as_text=True)
    assert 'data-total="40740.00"' in summary, "orders are priced from the published version"
    admin.submit("/plans", "/admin/catalog/draft/preview/stop")
    again = admin.client.get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert 'data-total="40740.00"' in again


# --- who may ---------------------------------------------------------------------------------

ADMIN_PAGES = [
    ("get", "/admin/catalog/draft"),
    ("get", "/admin/catalog/draft/changes"),
    ("get", "/admin/catalog/draft/sections/services"),
    ("get", "/admin/catalog/draft.toml"),
    ("post", "/admin/catalog/draft"),
    ("post", f"/admin/catalog/draft/cells?path={CELL}"),
    ("post", "/admin/catalog/draft/bulk"),
    ("post", "/admin/catalog/draft/sections/services"),
    ("post", "/admin/catalog/draft/preview"),
    ("post", "/admin/catalog/draft/preview/stop"),
    ("post", "/admin/catalog/draft/import"),
    ("post", "/admin/catalog/draft/publish"),
    ("post", "/admin/catalog/draft/discard"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
def test_every_draft_page_refuses_clients_and_staff_and_sends_strangers_to_sign_in(
    app, admin, desk, acme, form_client, method, path
):
    started(admin)
    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    for other in (desk, client):
        token = other.token("/account" if other is client else "/staff/tickets")
        asked = getattr(other.client, method)(
            path, data={"csrf_token": token} if method == "post" else None
        )
        assert asked.status_code == 404, (path, asked.status_code)
    stranger = getattr(app.test_client(), method)(path)
    assert stranger.status_code in (302, 303, 400)
    with app.app_context():
        assert db.session.scalar(sa.select(CatalogDraft.source)).count("7m = 40740") == 1


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


# --- plans: renamed, archived, moved, added ------------------------------------------------------


def save_plan(admin, code, was_name, was_archived="", archived=False, **names):
    data = {
        "was_name": was_name,
        "was_archived": was_archived,
        **{f"name.{k}": v for k, v in names.items()},
    }
    if archived:
        data["archived"] = "1"
    return admin.submit("/admin/catalog/draft", f"/admin/catalog/draft/plans/{code}", data)


def shown_was(admin, code):
    html = admin.client.get("/admin/catalog/draft").get_data(as_text=True)
    form = re.search(rf'action="/admin/catalog/draft/plans/{code}"(.*?)</form>', html, re.S).group(
        1
    )
    return {
        name: unescape(value)
        for name, value in re.findall(r'name="(was_\w+)" value="([^"]*)"', form)
    }


def test_a_plan_renamed_in_the_draft_reads_so_in_the_changes(app, admin):
    started(admin)
    was = shown_was(admin, "optima")
    assert (
        save_plan(admin, "optima", was["was_name"], en="OPTIMA 2027", uk="ОПТИМА 2027").status_code
        == 303
    )
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "plans.optima.name.en OPTIMA OPTIMA 2027" in changes
    assert "plans.optima.name.uk ОПТИМА ОПТИМА 2027" in changes


def test_an_archived_plan_leaves_the_comparison_and_new_orders_but_its_clients_renew_it(
    app, admin, acme, form_client, make_user
):
    client = client_with_a_period(app, acme, form_client, make_user)  # on OPTIMA
    started(admin)
    was = shown_was(admin, "optima")
    assert (
        save_plan(
            admin, "optima", was["was_name"], archived=True, en="OPTIMA", uk="ОПТИМА"
        ).status_code
        == 303
    )
    assert publish(admin).status_code == 303
    public = app.test_client().get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert 'data-plan="optima"' not in public and 'data-plan="premium"' in public
    assert app.test_client().get("/api/v1/catalog").json["plans"][1]["archived"] is True
    newcomer = make_organization_client(app, form_client)
    refused = newcomer.client.get("/orders/new?plan=optima&term=7m&lang=en")
    assert refused.status_code == 400
    assert "no longer offered to new clients" in visible_text(refused.get_data(as_text=True))
    renewal = client.client.get("/orders/new?plan=optima&term=7m&lang=en")
    assert renewal.status_code == 200, "its client renews it"
    mine = client.client.get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert 'data-plan="optima"' in mine, "and sees it beside the others"


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


def test_a_plan_moved_earlier_is_shown_earlier_and_a_stale_move_is_refused(
    app, admin, second_admin
):
    started(admin)
    html = admin.client.get("/admin/catalog/draft").get_data(as_text=True)
    order = re.search(r'name="was" value="([^"]+)"', html).group(1)
    assert order == "prof,optima,premium"
    moved = admin.submit(
        "/admin/catalog/draft",
        "/admin/catalog/draft/plans/premium/move",
        {"was": order, "direction": "up"},
    )
    assert moved.status_code == 303
    with app.app_context():
        from portal.plans import editing

        source = db.session.scalar(sa.select(CatalogDraft.source))
        assert editing.plan_codes(editing.read(source)) == ("prof", "premium", "optima")
    refused = second_admin.submit(
        "/admin/catalog/draft",
        "/admin/catalog/draft/plans/prof/move",
        {"was": order, "direction": "down"},
    )
    assert refused.status_code == 409
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "plans prof, optima, premium prof, premium, optima" in changes


def test_a_plan_added_as_a_copy_of_another_is_priced_like_it_until_changed(app, admin):
    started(admin)
    added = admin.submit(
        "/admin/catalog/draft",
        "/admin/catalog/draft/plans",
        {"source": "optima", "code": "optima-plus", "name.en": "OPTIMA+", "name.uk": "ОПТИМА+"},
    )
    assert added.status_code == 303
    assert draft_value(app, "plans.optima-plus.terms.7m") == "40740"
    assert save_cell(admin, "plans.optima-plus.terms.7m", "42000", "40740").status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"code": "Optima Plus"},
            "lower-case Latin letters",
            id="a code with capitals and a space",
        ),
        pytest.param({"code": "optima"}, "has a plan optima already", id="a code the catalog has"),
        pytest.param(
            {"name.en": "", "name.uk": ""}, "a name in at least one language", id="no name"
        ),
    ],
)
def test_a_plan_that_cannot_be_added_says_why(app, admin, fields, message):
    started(admin)
    data = {
        "source": "optima",
        "code": "optima-plus",
        "name.en": "OPTIMA+",
        "name.uk": "ОПТИМА+",
        **fields,
    }
    refused = admin.submit("/admin/catalog/draft", "/admin/catalog/draft/plans", data)
    assert refused.status_code == 422
    assert message in visible_text(refused.get_data(as_text=True))


def test_archiving_every_plan_is_refused_with_the_catalog_files_reason(app, admin):
    started(admin)
    for code in ("prof", "optima"):
        was = shown_was(admin, code)
        assert (
            save_plan(admin, code, was["was_name"], archived=True, en=code.upper()).status_code
            == 303
        )
    was = shown_was(admin, "premium")
    refused = save_plan(
        admin, "premium", was["was_name"], archived=True, en="PREMIUM", uk="ПРЕМІУМ"
    )
    assert refused.status_code == 422
    assert "at least one plan that is not archived" in visible_text(refused.get_data(as_text=True))


# --- the provider's logo --------------------------------------------------------------------

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10"/></svg>'
)


def upload_logo(admin, content: bytes, name: str):
    return admin.submit(
        "/admin/catalog/draft",
        "/admin/catalog/draft/logo",
        {"logo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_logo_uploaded_into_the_draft_is_published_with_it(app, admin):
    started(admin)
    assert upload_logo(admin, SVG, "Brand Mark.SVG").status_code == 303
    assert draft_value(app, "provider.logo") == "logo.svg"
    shown = admin.client.get("/admin/catalog/draft/logo")
    assert (shown.status_code, shown.data, shown.mimetype) == (200, SVG, "image/svg+xml")
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    assert publish(admin).status_code == 303
    public = app.test_client().get("/provider/logo?v=2")
    assert public.data == SVG
    with app.app_context():
        version = db.session.scalar(sa.select(CatalogVersion).where(CatalogVersion.version == 2))
        assert (version.logo_name, version.logo) == ("logo.svg", SVG)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        pytest.param(b"GIF89a", "logo.gif", "A logo is an SVG or PNG file.", id="a GIF"),
        pytest.param(b"not a picture", "logo.png", "is not a PNG image", id="a text called .png"),
        pytest.param(SVG, "logo.png", "is not a PNG image", id="an SVG called .png"),
    ],
)
def test_a_logo_that_is_not_an_svg_or_png_is_refused_and_the_old_one_kept(
    app, admin, content, name, message
):
    started(admin)
    upload_logo(admin, content, name)
    page = visible_text(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert message in page
    assert draft_value(app, "provider.logo") == "kbs.svg"


# --- the feature matrix ---------------------------------------------------------------------


def save_feature(admin, path, typed, was):
    token = admin.token("/admin/catalog/draft")
    return admin.client.post(
        f"/admin/catalog/draft/features?path={path}",
        data={"csrf_token": token, f"feature.{path}": typed, f"was.{path}": was},
        headers={"HX-Request": "true"},
    )


@pytest.mark.parametrize(
    ("path", "typed", "was", "saved"),
    [
        pytest.param(
            "plans.prof.features.loyalty-program", "false", "true", "false", id="a yes turned no"
        ),
        pytest.param("plans.prof.features.loyalty-program", "", "true", "", id="a yes removed"),
        pytest.param(
            "plans.optima.features.specialist-hours.value",
            "5",
            "3",
            "5",
            id="a quantity beside its note",
        ),
        pytest.param(
            "plans.prof.features.remote-connections.value",
            "∞",
            "2",
            "unlimited",
            id="a quantity made unlimited",
        ),
    ],
)
def test_a_feature_chosen_in_the_matrix_enters_the_draft(app, admin, path, typed, was, saved):
    started(admin)
    answer = save_feature(admin, path, typed, was)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert draft_value(app, path) == saved


def test_a_quantity_that_is_no_number_is_refused_beside_it(app, admin):
    started(admin)
    path = "plans.optima.features.specialist-hours.value"
    refused = save_feature(admin, path, "lots", "3")
    assert refused.status_code == 422
    assert "Type a number, or ∞ for unlimited." in visible_text(
        "<body>" + refused.get_data(as_text=True)
    )
    assert draft_value(app, path) == "3"


def test_a_feature_another_admin_changed_meanwhile_is_not_overwritten(app, admin, second_admin):
    started(admin)
    path = "plans.prof.features.loyalty-program"
    assert save_feature(second_admin, path, "false", "true").status_code == 200
    assert save_feature(admin, path, "", "true").status_code == 409
    assert draft_value(app, path) == "false"


def test_a_text_feature_is_not_edited_in_the_matrix(app, admin):
    started(admin)
    assert save_feature(admin, "plans.prof.features.education", "x", "").status_code == 400
