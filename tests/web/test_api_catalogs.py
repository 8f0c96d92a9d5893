"""Each reference catalog answers its figures through the API, as the active catalog."""

from __future__ import annotations

import pytest

QUOTES = [
    # (catalog, query, total, line amounts)
    (
        "iiko",
        "plan=contract&term=12m&start=2027-01-01&qty.workstation=3&qty.fiscal-register=2",
        "42240.00",
        ["35928.00", "6312.00"],
    ),
    (
        "iiko",
        "plan=contract&term=12m&start=2027-01-01&qty.workstation=1&billing=half-year",
        "11377.20",
        ["11976.00", "-598.80"],
    ),
    ("iiko", "plan=one-off&qty.workstation=1&qty.update=2", "5400.00", ["2400.00", "3000.00"]),
    ("iotex", "plan=basic&term=1y&licence_value=1234567", "308642", ["308642"]),
    (
        "iotex",
        "plan=premium&term=3y&licence_value=100000000&previous_plan=premium&previous_end=2026-12-31",
        "89250000",
        ["105000000", "-15750000"],
    ),
    ("crystals", "plan=garant&term=12m&qty.register=150", None, [None]),
    ("kvartplata", "service=remote-direct&hours=0.5", "5300.00", ["1300.00", "4000.00"]),
    ("kvartplata", "service=remote-backup&hours=2.5", "3250.00", ["3250.00"]),
    ("iotex", "service=launch-3d&quantity=2", "40000000", ["40000000"]),
]


@pytest.mark.parametrize(
    ("catalog", "query", "total", "amounts"), QUOTES, ids=[f"{q[0]}:{q[1]}" for q in QUOTES]
)
def test_the_api_prices_each_reference_catalog(make_app, catalog, query, total, amounts):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    response = client.get(f"/api/v1/quote?{query}")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["catalog"] == catalog
    assert body["total"] == total
    assert body["on_request"] is (total is None)
    assert [line["amount"] for line in body["lines"]] == amounts


ERRORS = [
    ("iotex", "plan=basic&term=1y", "licence_value_required", "licence_value"),
    ("iotex", "plan=basic&term=2y&licence_value=1000", "renewal_required", "term"),
    (
        "iotex",
        "plan=basic&term=2y&licence_value=1000&previous_plan=basic&previous_end=2026-12-31"
        "&start=2027-01-05",
        "renewal_required",
        "term",
    ),
    ("iiko", "plan=contract&term=6m", "term_not_offered", "term"),
    ("iiko", "plan=contract&term=12m&qty.workstation=-1", "invalid_quantity", "qty.workstation"),
    ("iiko", "plan=contract&term=12m&qty.workstation=1.5", "invalid_quantity", "qty.workstation"),
    ("iiko", "plan=one-off&term=1m", "term_not_applicable", "term"),
    ("iiko", "plan=one-off&qty.monthly-report=1", "unit_not_offered", "qty.monthly-report"),
    ("iiko", "plan=contract&term=12m&qty.workstation=0", "empty_quote", "qty"),
    ("crystals", "plan=garant&term=12m&qty.register=99", "below_minimum", "qty.register"),
    ("kvartplata", "service=remote-direct&quantity=2", "parameter_not_applicable", "quantity"),
    ("kvartplata", "service=remote-direct&first_time=maybe", "invalid_boolean", "first_time"),
]


@pytest.mark.parametrize(
    ("catalog", "query", "code", "field"), ERRORS, ids=[f"{e[0]}:{e[2]}" for e in ERRORS]
)
def test_each_catalog_refuses_what_it_does_not_offer(make_app, catalog, query, code, field):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    response = client.get(f"/api/v1/quote?{query}")
    assert response.status_code == 400
    assert (response.json["error"]["code"], response.json["error"]["field"]) == (code, field)


SLA = [
    (
        "iiko",
        "plan=contract&target=blocking&opened=2027-01-15T10:00:00%2B06:00",
        "2027-01-15T12:30:00+06:00",
        "2027-01-15T11:30:00+06:00",
        "24/7",
    ),
    (
        "iiko",
        "plan=one-off&target=critical&opened=2027-01-15T16:00:00%2B06:00",
        "2027-01-20T16:00:00+06:00",
        None,
        "working",
    ),
    (
        "crystals",
        "plan=garant&target=registration&opened=2027-01-01T23:50:00%2B03:00",
        "2027-01-02T00:05:00+03:00",
        None,
        "24/7",
    ),
    (
        "iotex",
        "plan=premium&target=first-response&opened=2027-01-07T10:00:00%2B03:30",
        "2027-01-09T11:00:00+03:30",
        None,
        "working",
    ),
]


@pytest.mark.parametrize(
    ("catalog", "query", "due", "expected", "clock"), SLA, ids=[f"{s[0]}:{s[1]}" for s in SLA]
)
def test_the_sla_endpoint_answers_each_catalog(make_app, catalog, query, due, expected, clock):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    body = client.get(f"/api/v1/sla?{query}").json
    assert (body["due"], body["expected"], body["clock"]) == (due, expected, clock)
