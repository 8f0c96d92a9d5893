"""Plans and features in the catalog draft: renamed, archived, moved, added as a copy; the
feature matrix chosen cell by cell."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import CatalogDraft
from tests.web.conftest import Page
from tests.web.drafting import (
    TOKEN_PAGE,
    client_with_a_period,
    draft_value,
    make_organization_client,
    publish,
    save_cell,
    started,
    visible_text,
)

# --- plans: renamed, archived, moved, added ------------------------------------------------------


def save_plan(admin, code, was_name, was_archived="", archived=False, **names):
    data = {
        "was_name": was_name,
        "was_archived": was_archived,
        **{f"name.{k}": v for k, v in names.items()},
    }
    if archived:
        data["archived"] = "1"
    return admin.submit(TOKEN_PAGE, f"/admin/catalog/draft/plans/{code}", data)


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


def test_a_plan_moved_earlier_is_shown_earlier_and_a_stale_move_is_refused(
    app, admin, second_admin
):
    started(admin)
    html = admin.client.get("/admin/catalog/draft").get_data(as_text=True)
    order = re.search(r'name="was" value="([^"]+)"', html).group(1)
    assert order == "prof,optima,premium"
    moved = admin.submit(
        TOKEN_PAGE,
        "/admin/catalog/draft/plans/premium/move",
        {"was": order, "direction": "up"},
    )
    assert moved.status_code == 303
    with app.app_context():
        from portal.plans import editing

        source = db.session.scalar(sa.select(CatalogDraft.source))
        assert editing.plan_codes(editing.read(source)) == ("prof", "premium", "optima")
    refused = second_admin.submit(
        TOKEN_PAGE,
        "/admin/catalog/draft/plans/prof/move",
        {"was": order, "direction": "down"},
    )
    assert refused.status_code == 409
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "plans prof, optima, premium prof, premium, optima" in changes


def test_a_plan_added_as_a_copy_of_another_is_priced_like_it_until_changed(app, admin):
    started(admin)
    added = admin.submit(
        TOKEN_PAGE,
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
    refused = admin.submit(TOKEN_PAGE, "/admin/catalog/draft/plans", data)
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


# --- the feature matrix ---------------------------------------------------------------------


def save_feature(admin, path, typed, was):
    token = admin.token(TOKEN_PAGE)
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


def test_a_plan_name_too_long_for_a_comparison_is_refused(app, admin):
    started(admin)
    was = shown_was(admin, "optima")
    refused = save_plan(admin, "optima", was["was_name"], en="O" * 201, uk="ОПТИМА")
    assert refused.status_code == 422
    assert "at most 200 characters" in visible_text(refused.get_data(as_text=True))
    assert draft_value(app, "plans.optima.name.en") == "OPTIMA"


# --- service levels -----------------------------------------------------------------------------


def save_sla(admin, path, amount, unit, was):
    token = admin.token(TOKEN_PAGE)
    return admin.client.post(
        f"/admin/catalog/draft/sla?path={path}",
        data={
            "csrf_token": token,
            f"sla.{path}.amount": amount,
            f"sla.{path}.unit": unit,
            f"was.{path}": was,
        },
        headers={"HX-Request": "true"},
    )


def test_a_plans_target_is_changed_in_the_matrix_and_read_by_the_engine(app, admin):
    started(admin)
    path = "plans.optima.sla.reaction"
    page = Page(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert page.value(f"sla.{path}.amount") == "1"
    was = page.value(f"was.{path}")
    assert save_sla(admin, path, "6", "working_hours", was).status_code == 200
    assert draft_value(app, f"{path}.working_hours") == "6"
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert f"{path}.working_days 1 —" in changes and f"{path}.working_hours — 6" in changes


@pytest.mark.parametrize(
    ("amount", "unit", "status", "message"),
    [
        pytest.param("soon", "working_hours", 422, "Type a number", id="a word"),
        pytest.param("4", "fortnights", 422, "Choose a unit.", id="a unit that does not exist"),
        pytest.param("2.5-1.5", "hours", 422, "0 < from < to", id="a range the wrong way round"),
        pytest.param("0", "hours", 422, "must be more than 0", id="no time at all"),
    ],
)
def test_a_target_that_cannot_be_is_refused_beside_it(app, admin, amount, unit, status, message):
    started(admin)
    path = "plans.optima.sla.reaction"
    was = Page(admin.client.get("/admin/catalog/draft").get_data(as_text=True)).value(f"was.{path}")
    refused = save_sla(admin, path, amount, unit, was)
    assert refused.status_code == status
    assert message in visible_text("<body>" + refused.get_data(as_text=True))
    assert draft_value(app, f"{path}.working_days") == "1"


def test_the_features_of_an_archived_plan_show_to_its_client_whoever_looked_first(
    app, admin, acme, form_client, make_user
):
    client = client_with_a_period(app, acme, form_client, make_user)  # on OPTIMA
    started(admin)
    was = shown_was(admin, "optima")
    save_plan(admin, "optima", was["was_name"], archived=True, en="OPTIMA", uk="ОПТИМА")
    publish(admin)
    first = app.test_client().get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert 'data-plan="optima"' not in first
    mine = client.client.get("/plans?term=7m&lang=en").get_data(as_text=True)
    features = re.findall(r'<td data-plan="(\w+)">', mine)
    assert features.count("optima") == features.count("premium") > 0, "a column of its own"
    assert 'data-choose="optima"' in mine, "and a Choose button to renew it"
    again = app.test_client().get("/plans?term=7m&lang=en").get_data(as_text=True)
    assert '<td data-plan="optima">' not in again


# --- working calendars ---------------------------------------------------------------------------


def save_calendar(admin, days, hours, holidays, exceptions, was=None):
    was = was or {
        "was_days": '["mon", "tue", "wed", "thu", "fri"]',
        "was_hours": "09:00-18:00",
        "was_holidays": "UA",
        "was_exceptions": "",
    }
    data = {"day": days, "hours": hours, "holidays": holidays, "exceptions": exceptions, **was}
    return admin.submit(TOKEN_PAGE, "/admin/catalog/draft/calendars/office", data)


def test_a_calendars_days_hours_and_exceptions_are_saved_in_the_draft(app, admin):
    started(admin)
    saved = save_calendar(
        admin,
        ["mon", "tue", "wed", "thu", "fri", "sat"],
        "09:00-13:00, 14:00-18:00",
        "ua",
        "2026-12-31 closed\n2026-12-24 10:00-14:00",
    )
    assert saved.status_code == 303
    assert draft_value(app, "calendars.office.days") == '["mon", "tue", "wed", "thu", "fri", "sat"]'
    assert draft_value(app, "calendars.office.hours") == "09:00-13:00, 14:00-18:00"
    assert draft_value(app, "calendars.office.exceptions.2026-12-31") == "closed"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"days": []}, "Choose the days the calendar works.", id="no working day"),
        pytest.param(
            {"hours": "9 to 6"}, "calendars.office.hours", id="hours the catalog cannot read"
        ),
        pytest.param(
            {"holidays": "XX"}, "unknown holiday country", id="a country with no holidays known"
        ),
        pytest.param(
            {"exceptions": "New Year closed"}, "Line 1:", id="an exception without its day"
        ),
    ],
)
def test_a_calendar_that_cannot_be_is_refused_and_the_draft_kept(app, admin, fields, message):
    started(admin)
    asked = {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "hours": "09:00-18:00",
        "holidays": "UA",
        "exceptions": "",
        **fields,
    }
    refused = save_calendar(admin, **asked)
    assert refused.status_code == 422
    assert message in visible_text(refused.get_data(as_text=True))
    assert draft_value(app, "calendars.office.hours") == "09:00-18:00"
