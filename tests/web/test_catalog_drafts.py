"""Admins edit the catalog in a draft: a grid cell saved as they leave it, refused with the
reason beside it, or refused because another admin changed it meanwhile; a bulk change
previewed before it enters the draft; sections edited as TOML; a preview of the public page
with the draft's prices; and no draft page for anyone but admins."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Page
from tests.web.drafting import (
    CELL,
    TOKEN_PAGE,
    actions,
    draft_value,
    save_cell,
    started,
    visible_text,
)


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
    return admin.submit(TOKEN_PAGE, "/admin/catalog/draft/bulk", data)


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
    shown = admin.submit(TOKEN_PAGE, "/admin/catalog/draft/preview")
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


@pytest.mark.parametrize(
    ("catalog", "path", "was", "typed"),
    [
        pytest.param(
            "iotex", "plans.standard.percent", "30", "32", id="Iotex: a share of the licence value"
        ),
        pytest.param(
            "iotex",
            "plans.premium.terms.3y.discount_percent",
            "15",
            "20",
            id="Iotex: a multi-year discount",
        ),
        pytest.param(
            "iiko",
            "plans.contract.unit_prices.workstation",
            "998",
            "1050",
            id="iiko: a price per workstation",
        ),
        pytest.param(
            "iiko", "plans.contract.billing.year", "10", "12", id="iiko: a prepayment discount"
        ),
        pytest.param(
            "kbs", "services.hours.price", "1500", "1650", id="KBS: an hour of extra time"
        ),
    ],
)
def test_every_price_table_of_the_bundled_catalogs_is_a_grid_of_cells(
    make_app, make_user, form_client, catalog, path, was, typed
):
    app = make_app(PORTAL_CATALOG=catalog)
    account = make_user("root@example.com", role="admin", name="Root")
    admin = form_client(app.test_client())
    admin.client.set_cookie("lang", "en")
    admin.sign_in(account.email)
    started(admin)
    page = Page(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert page.value(f"cell.{path}") == was
    assert save_cell(admin, path, typed, was).status_code == 200
    assert draft_value(app, path) == typed


def test_a_section_with_a_character_toml_does_not_allow_is_refused(app, admin):
    started(admin)
    path = "/admin/catalog/draft/sections/services"
    was = Page(admin.client.get(path).get_data(as_text=True)).inputs["was"]["value"]
    refused = admin.submit(
        path,
        path,
        {"source": was.replace("hour_step = 1", 'hour_step = 1\nx = "\x01"'), "was": was},
    )
    assert refused.status_code == 422
    assert "not valid TOML" in visible_text(refused.get_data(as_text=True))


def test_a_cell_saved_after_another_admin_discarded_the_draft_is_sent_to_the_versions(
    app, admin, second_admin
):
    started(admin)
    assert second_admin.submit(TOKEN_PAGE, "/admin/catalog/draft/discard").status_code == 303
    refused = save_cell(admin, CELL, "44000", "40740")
    assert refused.status_code in (404, 409)
    if refused.status_code == 409:
        assert refused.headers["HX-Redirect"] == "/admin/catalog"


def test_a_bulk_step_finer_than_a_kopeck_is_refused(app, admin):
    started(admin)
    refused = admin.submit(
        TOKEN_PAGE,
        "/admin/catalog/draft/bulk",
        {"plan": ["optima"], "table": ["terms"], "percent": "8", "step": "1e-25"},
    )
    assert refused.status_code == 422
    assert "Round to a positive amount" in visible_text(refused.get_data(as_text=True))
