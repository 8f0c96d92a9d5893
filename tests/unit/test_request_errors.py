"""Bad requests get a PlanError with a stable code and the parameter at fault, never a crash."""

from __future__ import annotations

import pytest
from conftest import TODAY, catalog, refuse, row

from portal.plans import PlanError, parse_quote_request

OPTIMA = {"plan": "optima", "term": "1m"}
CONTRACT = {"plan": "contract", "term": "12m"}
BASIC = {"plan": "basic", "term": "1y"}
BACKUP = {"service": "remote-backup"}
VISIT = {"service": "extra-visit"}

# sentence: row(catalog, params, code, field)
BAD_REQUESTS = {
    # plans and terms
    "an unknown plan": row("kbs", {"plan": "gold", "term": "1m"}, "unknown_plan", "plan"),
    "13 months": row("kbs", {**OPTIMA, "term": "13m"}, "invalid_term", "term"),
    "0 months": row("kbs", {**OPTIMA, "term": "0m"}, "invalid_term", "term"),
    "4 years": row("kbs", {**OPTIMA, "term": "4y"}, "invalid_term", "term"),
    "budget:20x, which has no year": row(
        "kbs", {**OPTIMA, "term": "budget:20x"}, "invalid_term", "term"
    ),
    "the budget year 0000": row("kbs", {**OPTIMA, "term": "budget:0000"}, "invalid_term", "term"),
    "a term in words": row("kbs", {**OPTIMA, "term": "7 months"}, "invalid_term", "term"),
    "an empty term": row("kbs", {**OPTIMA, "term": ""}, "invalid_term", "term"),
    "1y, which KBS does not offer": row(
        "kbs", {**OPTIMA, "term": "1y"}, "term_not_offered", "term"
    ),
    "the iiko contract for 6 months": row(
        "iiko", {**CONTRACT, "term": "6m"}, "term_not_offered", "term"
    ),
    "the iiko contract for a budget year": row(
        "iiko", {**CONTRACT, "term": "budget:2027"}, "term_not_offered", "term"
    ),
    "a term on the included licence plan": row(
        "kvartplata", {"plan": "licence", "term": "12m"}, "term_not_applicable", "term"
    ),
    "a plan without a term": row("kbs", {"plan": "optima"}, "missing_parameter", "term"),
    # quantities and units
    "a negative quantity": row(
        "iiko", {**CONTRACT, "qty.workstation": "-1"}, "invalid_quantity", "qty.workstation"
    ),
    "a fractional quantity": row(
        "iiko", {**CONTRACT, "qty.workstation": "1.5"}, "invalid_quantity", "qty.workstation"
    ),
    "a quantity in words": row(
        "iiko", {**CONTRACT, "qty.workstation": "two"}, "invalid_quantity", "qty.workstation"
    ),
    "a quantity above 100000": row(
        "iiko", {**CONTRACT, "qty.workstation": "100001"}, "invalid_quantity", "qty.workstation"
    ),
    "only zero quantities": row(
        "iiko", {**CONTRACT, "qty.workstation": "0", "qty.utm": "0"}, "empty_quote", "qty"
    ),
    "an unknown unit": row("iiko", {**CONTRACT, "qty.printer": "1"}, "unknown_unit", "qty.printer"),
    "a unit on a catalog without units": row(
        "kbs", {**OPTIMA, "qty.workstation": "1"}, "unknown_unit", "qty.workstation"
    ),
    "a unit the plan is not priced by": row(
        "iiko",
        {"plan": "one-off", "qty.monthly-report": "1"},
        "unit_not_offered",
        "qty.monthly-report",
    ),
    # dates
    "February 30": row("kbs", {**OPTIMA, "start": "2027-02-30"}, "invalid_date", "start"),
    "a two-digit year": row("kbs", {**OPTIMA, "start": "27-01-01"}, "invalid_date", "start"),
    "a date with slashes": row("kbs", {**OPTIMA, "start": "2027/01/15"}, "invalid_date", "start"),
    "a date with a time": row(
        "kbs", {**OPTIMA, "start": "2027-01-15T10:00"}, "invalid_date", "start"
    ),
    "a previous end in month 13": row(
        "kbs",
        {**OPTIMA, "previous_plan": "optima", "previous_end": "2027-13-01"},
        "invalid_date",
        "previous_end",
    ),
    # parameters
    "an unknown parameter": row("kbs", {**OPTIMA, "colour": "red"}, "unknown_parameter", "colour"),
    "a plan and a service together": row(
        "kbs", {**OPTIMA, "service": "hours"}, "conflicting_parameters", "service"
    ),
    "neither a plan nor a service": row("kbs", {}, "missing_parameter", "plan"),
    "a previous plan without its end": row(
        "kbs", {**OPTIMA, "previous_plan": "optima"}, "missing_parameter", "previous_end"
    ),
    "a previous end without its plan": row(
        "kbs", {**OPTIMA, "previous_end": "2027-01-14"}, "missing_parameter", "previous_plan"
    ),
    "an unknown previous plan": row(
        "kbs",
        {**OPTIMA, "previous_plan": "gold", "previous_end": "2027-01-14"},
        "unknown_plan",
        "previous_plan",
    ),
    # billing
    "billing on KBS": row(
        "kbs", {**OPTIMA, "billing": "monthly"}, "billing_not_offered", "billing"
    ),
    "a quarterly billing of the iiko contract": row(
        "iiko", {**CONTRACT, "billing": "quarterly"}, "billing_not_offered", "billing"
    ),
    "billing on iiko single requests": row(
        "iiko", {"plan": "one-off", "billing": "monthly"}, "billing_not_offered", "billing"
    ),
    # licence values
    "a licence value in letters": row(
        "iotex", {**BASIC, "licence_value": "abc"}, "invalid_amount", "licence_value"
    ),
    "a negative licence value": row(
        "iotex", {**BASIC, "licence_value": "-5"}, "invalid_amount", "licence_value"
    ),
    "a zero licence value": row(
        "iotex", {**BASIC, "licence_value": "0"}, "invalid_amount", "licence_value"
    ),
    "a licence value that is not a number": row(
        "iotex", {**BASIC, "licence_value": "NaN"}, "invalid_amount", "licence_value"
    ),
    "an infinite licence value": row(
        "iotex", {**BASIC, "licence_value": "Infinity"}, "invalid_amount", "licence_value"
    ),
    "an empty licence value": row(
        "iotex", {**BASIC, "licence_value": ""}, "invalid_amount", "licence_value"
    ),
    "a percentage plan without a licence value": row(
        "iotex", BASIC, "licence_value_required", "licence_value"
    ),
    "a licence value on a price-table plan": row(
        "kbs", {**OPTIMA, "licence_value": "1000"}, "parameter_not_applicable", "licence_value"
    ),
    # services
    "an unknown service": row("kbs", {"service": "massage"}, "unknown_service", "service"),
    "hours on a fixed-price service": row(
        "iotex", {**VISIT, "hours": "2"}, "parameter_not_applicable", "hours"
    ),
    "a quantity on an hourly service": row(
        "kvartplata", {**BACKUP, "quantity": "2"}, "parameter_not_applicable", "quantity"
    ),
    "first_time=maybe": row(
        "kvartplata",
        {"service": "remote-direct", "first_time": "maybe"},
        "invalid_boolean",
        "first_time",
    ),
    "a term on a service": row(
        "kbs", {"service": "hours", "term": "1m"}, "unknown_parameter", "term"
    ),
    "hours in words": row("kbs", {"service": "hours", "hours": "abc"}, "invalid_amount", "hours"),
    "zero hours": row("kvartplata", {**BACKUP, "hours": "0"}, "invalid_amount", "hours"),
    "negative hours": row("kvartplata", {**BACKUP, "hours": "-1"}, "invalid_amount", "hours"),
    "more than 10000 hours": row(
        "kvartplata", {**BACKUP, "hours": "10001"}, "invalid_amount", "hours"
    ),
    "zero extra visits": row("iotex", {**VISIT, "quantity": "0"}, "invalid_quantity", "quantity"),
    "one and a half extra visits": row(
        "iotex", {**VISIT, "quantity": "1.5"}, "invalid_quantity", "quantity"
    ),
}


@pytest.mark.parametrize(
    ("catalog_name", "params", "code", "field"),
    [pytest.param(*case, id=f"{sentence} is refused") for sentence, case in BAD_REQUESTS.items()],
)
def test_a_bad_request_is_refused_with_its_code_and_field(catalog_name, params, code, field):
    assert refuse(catalog_name, params) == (code, field)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param(
            {"plan": "optima", "term": "1m", "start": "9999-12-31"},
            "start",
            id="a month starting 9999-12-31 has no end date",
        ),
        pytest.param(
            {
                "plan": "optima",
                "term": "1m",
                "previous_plan": "optima",
                "previous_end": "9999-12-31",
            },
            "previous_end",
            id="a renewal after 9999-12-31 has no start date",
        ),
    ],
)
def test_dates_at_the_end_of_the_calendar_are_refused_as_plan_errors(params, field):
    # A user can type these into the JSON API: the answer must be a 4xx PlanError, not a 500.
    assert refuse("kbs", params)[1] == field


def test_a_plan_error_message_names_the_value_and_what_is_offered():
    with pytest.raises(PlanError) as caught:
        parse_quote_request(catalog("kbs"), {"plan": "optima", "term": "1y"}, today=TODAY)

    assert caught.value.message == (
        "Term 1y is not offered for this plan (offered: 1m, 2m, 3m, 4m, 5m, 6m, 7m, 8m, 9m, "
        "10m, 11m, 12m, budget:YYYY)"
    )
    assert caught.value.params == {
        "value": "1y",
        "offered": "1m, 2m, 3m, 4m, 5m, 6m, 7m, 8m, 9m, 10m, 11m, 12m, budget:YYYY",
    }
