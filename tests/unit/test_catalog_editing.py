"""Editing a catalog's text: a price typed in a cell, a value set with the rest of the text as
it was, a bulk change rounded to a step, a section replaced whole, the values two texts
differ in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.plans import editing, parse_catalog
from portal.plans.loading import CATALOG_DIR

KBS = (CATALOG_DIR / "kbs.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        pytest.param("44000", Decimal("44000"), id="digits are a price"),
        pytest.param(" 44 000 ", Decimal("44000"), id="spaces between thousands are read past"),
        pytest.param("44\u00a0000", Decimal("44000"), id="so are no-break spaces"),
        pytest.param("1500,50", Decimal("1500.50"), id="a decimal comma is a decimal point"),
        pytest.param("۴۴۰۰۰", Decimal("44000"), id="Persian digits are digits"),
        pytest.param("0", Decimal("0"), id="zero is a price (included)"),
        pytest.param("", None, id="an empty cell is no price"),
    ],
)
def test_a_price_typed_in_a_cell_is_read_as_people_type_it(typed, amount):
    assert editing.parse_amount(typed) == amount


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        pytest.param("forty", "not_a_number", id="a word is not a number"),
        pytest.param("NaN", "not_a_number", id="nor is NaN"),
        pytest.param("-1", "negative", id="a price is never negative"),
        pytest.param("1.005", "too_many_decimals", id="at most two decimals"),
        pytest.param("1" + "0" * 16, "too_large", id="nor larger than any catalog needs"),
    ],
)
def test_a_cell_that_is_no_price_says_why(typed, code):
    with pytest.raises(editing.EditError) as refused:
        editing.parse_amount(typed)
    assert refused.value.code == code


def test_setting_a_value_keeps_the_rest_of_the_text_as_it_was():
    edited = editing.set_values(KBS, {"plans.optima.terms.7m": Decimal("44000")})
    assert edited == KBS.replace("7m = 40740", "7m = 44000", 1)
    assert editing.diff(KBS, edited) == [editing.Change("plans.optima.terms.7m", 40740, 44000)]


def test_an_empty_cell_removes_the_price_and_a_new_one_adds_it():
    edited = editing.set_values(
        KBS, {"plans.prof.loyalty.3m": None, "plans.prof.loyalty.1m": Decimal("2000")}
    )
    assert {c.path: (c.before, c.after) for c in editing.diff(KBS, edited)} == {
        "plans.prof.loyalty.1m": (None, 2000),
        "plans.prof.loyalty.3m": (4950, None),
    }


@pytest.mark.parametrize(
    ("percent", "step", "seven_months", "one_month"),
    [
        pytest.param(Decimal(8), Decimal(10), Decimal(44000), Decimal(6930), id="8% up, to 10 UAH"),
        pytest.param(
            Decimal(-5), Decimal(1), Decimal(38703), Decimal(6099), id="5% down, to 1 UAH"
        ),
        pytest.param(
            Decimal("2.5"),
            Decimal("0.01"),
            Decimal("41758.50"),
            Decimal("6580.50"),
            id="2.5% up, to the kopeck",
        ),
        pytest.param(
            Decimal(0),
            Decimal(100),
            Decimal(40700),
            Decimal(6400),
            id="no change but rounding to 100",
        ),
    ],
)
def test_a_bulk_change_rounds_every_new_price_half_up_to_its_step(
    percent, step, seven_months, one_month
):
    changes = {
        c.path: c.after
        for c in editing.bulk_change(editing.read(KBS), ["optima"], ["terms"], percent, step)
    }
    assert changes["plans.optima.terms.7m"] == seven_months
    assert changes["plans.optima.terms.1m"] == one_month
    assert all(path.startswith("plans.optima.terms.") for path in changes)


def test_a_bulk_change_leaves_out_the_prices_it_does_not_change():
    changes = editing.bulk_change(editing.read(KBS), ["optima"], ["terms"], Decimal(0), Decimal(10))
    assert changes == []


def test_a_section_replaced_by_its_own_text_changes_no_value():
    for path in sorted(CATALOG_DIR.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        for section in editing.SECTIONS:
            shown = editing.section_text(text, section)
            if shown:
                assert editing.diff(text, editing.replace_section(text, section, shown)) == []


def test_a_section_box_holds_its_own_section_only():
    with pytest.raises(editing.EditError) as refused:
        editing.replace_section(KBS, "services", '[services.x]\nname = "x"\n[units.y]\nname = "y"')
    assert refused.value.code == "other_section"


def test_the_price_grids_of_a_catalog_are_its_plans_number_tables():
    grids = {grid.table: grid for grid in editing.grids(editing.read(KBS))}
    assert set(grids) == {"terms", "loyalty", "services"}
    assert grids["terms"].plans == ("prof", "optima", "premium")
    assert grids["terms"].rows[0] == "1m" and grids["terms"].rows[-1] == "budget"
    assert grids["terms"].cells[("7m", "optima")] == 40740


def test_an_edited_text_is_validated_as_a_catalog_file():
    edited = editing.set_values(KBS, {"plans.optima.terms.7m": Decimal("44000")})
    assert parse_catalog(edited).plans["optima"].terms


def test_plans_put_in_another_order_keep_every_value_and_the_change_is_the_order():
    moved = editing.reorder_plans(KBS, ["premium", "prof", "optima"])
    assert editing.plan_codes(editing.read(moved)) == ("premium", "prof", "optima")
    assert editing.diff(KBS, moved) == [
        editing.Change("plans", "prof, optima, premium", "premium, prof, optima")
    ]
    with pytest.raises(editing.EditError):
        editing.reorder_plans(KBS, ["premium", "prof"])


def test_a_plan_copied_from_another_has_its_prices_and_a_name_of_its_own():
    copied = parse_catalog(editing.copy_plan(KBS, "optima", "optima-plus", {"en": "OPTIMA+"}))
    assert copied.plans["optima-plus"].terms == copied.plans["optima"].terms
    assert copied.plans["optima-plus"].name == {"en": "OPTIMA+"}
    with pytest.raises(editing.EditError) as refused:
        editing.copy_plan(KBS, "optima", "prof", {"en": "x"})
    assert refused.value.code == "plan_exists"


@pytest.mark.parametrize(
    ("plan", "renewing", "orderable"),
    [
        pytest.param("optima", None, False, id="an archived plan is not ordered anew"),
        pytest.param("optima", "prof", False, id="nor by a client of another plan"),
        pytest.param("optima", "optima", True, id="its own client renews it"),
        pytest.param("premium", None, True, id="a plan still offered is ordered"),
    ],
)
def test_an_archived_plan_is_ordered_only_as_its_own_renewal(plan, renewing, orderable):
    from portal.plans.subscriptions import is_orderable

    catalog = parse_catalog(editing.set_values(KBS, {"plans.optima.archived": True}))
    assert list(catalog.offered) == ["prof", "premium"]
    assert is_orderable(catalog, plan, renewing) is orderable


def test_a_catalog_of_archived_plans_only_is_refused():
    from portal.plans import CatalogError

    text = editing.set_values(
        KBS, {f"plans.{code}.archived": True for code in ("prof", "optima", "premium")}
    )
    with pytest.raises(CatalogError, match="at least one plan that is not archived"):
        parse_catalog(text)


@pytest.mark.parametrize(
    ("kind", "typed", "value"),
    [
        pytest.param("yes-no", "true", True, id="yes"),
        pytest.param("yes-no", "false", False, id="no"),
        pytest.param("yes-no", "", None, id="not shown"),
        pytest.param("quantity", "3", Decimal(3), id="a number of hours"),
        pytest.param("quantity", "∞", "unlimited", id="infinity is unlimited"),
        pytest.param("quantity", "Unlimited", "unlimited", id="and so is the word"),
    ],
)
def test_a_feature_chosen_in_the_matrix_is_read_as_the_catalog_file_writes_it(kind, typed, value):
    assert editing.parse_feature(kind, typed) == value


def test_a_feature_value_with_a_note_is_edited_beside_its_note():
    features, plans, cells = editing.feature_matrix(editing.read(KBS))
    assert ("specialist-hours", "quantity") in features and plans == ("prof", "optima", "premium")
    cell = cells[("specialist-hours", "optima")]
    assert (cell.path, cell.value) == ("plans.optima.features.specialist-hours.value", 3)
    edited = editing.set_values(KBS, {cell.path: Decimal(5)})
    assert parse_catalog(edited).plans["optima"].features["specialist-hours"].note is not None


@pytest.mark.parametrize("name", ["kbs", "iiko", "iotex", "kvartplata", "crystals"])
def test_every_grid_cell_names_the_place_it_saves_to_and_back(name):
    data = editing.read((CATALOG_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    for grid in editing.grids(data):
        for row in grid.rows:
            for column in grid.plans:
                path = grid.path(row, column)
                assert editing.cell_of(path) == (grid.table, row, column)
                if (row, column) in grid.cells:
                    assert editing.value_at(data, path) == grid.cells[(row, column)]


@pytest.mark.parametrize(
    ("typed", "unit", "value"),
    [
        pytest.param("4", "working_hours", {"working_hours": Decimal(4)}, id="4 working hours"),
        pytest.param("1.5-2.5", "hours", {"hours": [Decimal("1.5"), Decimal("2.5")]}, id="a range"),
        pytest.param(
            "1,5–2,5",
            "hours",
            {"hours": [Decimal("1.5"), Decimal("2.5")]},
            id="a range as typed in Kyiv",
        ),
        pytest.param("", "working_days", None, id="no target"),
    ],
)
def test_a_target_typed_in_the_matrix_is_read_as_the_catalog_file_writes_it(typed, unit, value):
    assert editing.parse_sla(typed, unit) == value


def test_a_target_shows_as_its_amount_and_unit():
    iiko = editing.read((CATALOG_DIR / "iiko.toml").read_text(encoding="utf-8"))
    targets, plans, cells = editing.sla_matrix(iiko)
    assert targets[0] == "blocking" and plans == ("contract", "one-off")
    assert editing.sla_parts(cells[("blocking", "contract")]) == ("1.5-2.5", "hours")
    assert editing.sla_parts(cells[("critical", "one-off")]) == ("3", "working_days")


@pytest.mark.parametrize("typed", ["1e30", "9" * 29])
def test_a_number_too_large_for_any_price_is_refused_as_such(typed):
    with pytest.raises(editing.EditError) as refused:
        editing.parse_amount(typed)
    assert refused.value.code == "too_large"


@pytest.mark.parametrize("step", [Decimal("1e-25"), Decimal("0.001"), Decimal(0)])
def test_a_bulk_change_rounds_to_a_kopeck_at_the_finest(step):
    with pytest.raises(editing.EditError):
        editing.bulk_change(editing.read(KBS), ["optima"], ["terms"], Decimal(8), step)
