"""The JSON API answers every reference figure, and every mistake with a 400 that says why."""

from __future__ import annotations

import pytest

QUOTES = [
    # (query, total, coverage, installments)
    ("plan=optima&term=7m&start=2027-01-15", "40740.00", ("2027-01-15", "2027-08-14"), 1),
    ("plan=prof&term=1m&start=2027-01-15", "2460.00", ("2027-01-15", "2027-02-14"), 1),
    ("plan=premium&term=budget:2027&start=2027-03-10", "98820.00", ("2027-03-10", "2027-12-31"), 1),
    (
        "plan=optima&term=6m&previous_plan=optima&previous_end=2026-12-31",
        "31860.00",
        ("2027-01-01", "2027-06-30"),
        1,
    ),
    (
        "plan=optima&term=6m&start=2027-01-02&previous_plan=optima&previous_end=2026-12-31",
        "36720.00",
        ("2027-01-02", "2027-07-01"),
        1,
    ),
]


@pytest.mark.parametrize(
    ("query", "total", "coverage", "installments"), QUOTES, ids=[q[0] for q in QUOTES]
)
def test_a_kbs_quote_gives_the_reference_total_coverage_and_installments(
    client, query, total, coverage, installments
):
    response = client.get(f"/api/v1/quote?{query}")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["total"] == total
    assert body["currency"] == "UAH"
    assert body["on_request"] is False
    assert (body["coverage"]["start"], body["coverage"]["end"]) == coverage
    assert len(body["installments"]) == installments
    assert sum(float(i["amount"]) for i in body["installments"]) == float(total)
    assert body["catalog"] == "kbs"
    assert body["catalog_version"] == 1
    assert [line["amount"] for line in body["lines"]] == [total]


def test_a_quote_line_is_labelled_in_the_language_asked(client):
    english = client.get("/api/v1/quote?plan=optima&term=7m&lang=en").json
    ukrainian = client.get("/api/v1/quote?plan=optima&term=7m&lang=uk").json
    assert english["lines"][0]["label"] == "OPTIMA, 7 months"
    assert ukrainian["lines"][0]["label"].startswith("ОПТИМА, 7 ")


def test_a_service_quote_mixes_bundles_and_single_hours(client):
    body = client.get("/api/v1/quote?service=hours&hours=13").json
    assert body["service"] == "hours"
    assert body["total"] == "18300.00"
    assert [(line["code"], line["amount"]) for line in body["lines"]] == [
        ("hours-bundle-5", "13800.00"),
        ("hours", "4500.00"),
    ]
    assert body["coverage"] is None


ERRORS = [
    ("plan=nope&term=1m", "unknown_plan", "plan"),
    ("plan=optima&term=13m", "invalid_term", "term"),
    ("plan=optima&term=2y", "term_not_offered", "term"),
    ("plan=optima", "missing_parameter", "term"),
    ("plan=optima&term=1m&start=2027-02-30", "invalid_date", "start"),
    ("plan=optima&term=1m&start=tomorrow", "invalid_date", "start"),
    ("plan=optima&term=1m&billing=year", "billing_not_offered", "billing"),
    ("plan=optima&term=1m&qty.workstation=2", "unknown_unit", "qty.workstation"),
    ("plan=optima&term=1m&qty.spaceship=2", "unknown_unit", "qty.spaceship"),
    ("plan=optima&term=1m&term=2m", "duplicate_parameter", "term"),
    ("plan=optima&term=1m&color=red", "unknown_parameter", "color"),
    ("plan=optima&term=1m&previous_plan=optima", "missing_parameter", "previous_end"),
    ("plan=optima&term=1m&licence_value=100", "parameter_not_applicable", "licence_value"),
    ("service=hours&hours=-1", "invalid_amount", "hours"),
    ("service=hours&hours=1.5", "invalid_hours", "hours"),
    ("service=nope", "unknown_service", "service"),
    ("", "missing_parameter", "plan"),
]


@pytest.mark.parametrize(
    ("query", "code", "field"), ERRORS, ids=[e[1] + ":" + e[0] for e in ERRORS]
)
def test_a_bad_quote_request_answers_400_with_code_message_and_field(client, query, code, field):
    response = client.get(f"/api/v1/quote?{query}")
    assert response.status_code == 400
    error = response.json["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]


SLA = [
    (
        "plan=premium&target=reaction&opened=2027-03-26T16:00:00%2B02:00",
        "2027-03-29T11:00:00+03:00",
    ),
    # A '+' left unencoded in a query string arrives as a space; it is read back as '+'.
    ("plan=premium&target=reaction&opened=2027-03-26T16:00:00+02:00", "2027-03-29T11:00:00+03:00"),
    ("plan=optima&target=reaction&opened=2027-01-18T09:00:00Z", "2027-01-19T11:00:00+02:00"),
]


@pytest.mark.parametrize(("query", "due"), SLA, ids=[s[0] for s in SLA])
def test_the_sla_endpoint_answers_the_due_time_in_the_catalog_time_zone(client, query, due):
    response = client.get(f"/api/v1/sla?{query}")
    assert response.status_code == 200, response.json
    assert response.json["due"] == due
    assert response.json["clock"] == "working"
    assert response.json["expected"] is None


SLA_ERRORS = [
    ("plan=premium&target=reaction&opened=2027-03-26T16:00:00", "invalid_datetime", "opened"),
    ("plan=premium&target=reaction&opened=yesterday", "invalid_datetime", "opened"),
    ("plan=premium&target=lunch&opened=2027-03-26T16:00:00Z", "unknown_target", "target"),
    ("plan=gold&target=reaction", "unknown_plan", "plan"),
    ("target=reaction", "missing_parameter", "plan"),
]


@pytest.mark.parametrize(
    ("query", "code", "field"), SLA_ERRORS, ids=[e[1] + ":" + e[0] for e in SLA_ERRORS]
)
def test_a_bad_sla_request_answers_400(client, query, code, field):
    response = client.get(f"/api/v1/sla?{query}")
    assert response.status_code == 400
    assert (response.json["error"]["code"], response.json["error"]["field"]) == (code, field)


def test_an_sla_without_opened_time_counts_from_now(client):
    # The test clock stands at 2026-11-22 09:00 UTC, a Sunday: work starts Monday 09:00 Kyiv.
    response = client.get("/api/v1/sla?plan=premium&target=reaction")
    assert response.json["due"] == "2026-11-23T13:00:00+02:00"


def test_the_catalog_lists_plans_terms_features_units_services_and_targets(client):
    body = client.get("/api/v1/catalog").json
    assert body["code"] == "kbs"
    assert body["version"] == 1
    assert body["currency"] == "UAH"
    assert [plan["code"] for plan in body["plans"]] == ["prof", "optima", "premium"]
    optima = body["plans"][1]
    terms = {term["code"]: term for term in optima["terms"]}
    assert terms["7m"]["price"] == "40740.00"
    assert terms["6m"]["loyalty_price"] == "31860.00"
    assert "budget:YYYY" in terms
    assert optima["sla"][0]["target"] == "reaction"
    assert optima["sla"][0]["within"] == {"amount": "1", "unit": "working_days"}
    assert [s["code"] for s in body["services"]] == ["hours"]
    assert body["services"][0]["bundles"] == [{"hours": 5, "price": "6900.00"}]
    assert [t["code"] for t in body["sla_targets"]] == ["reaction"]
    assert (body["sla_targets"][0]["applies"], body["sla_targets"][0]["met_by"]) == (
        "every-ticket",
        "first-reply",
    )


def test_a_plan_priced_on_request_says_who_it_is_for_and_what_its_quote_asks(make_app):
    client = make_app(PORTAL_CATALOG="crystals").test_client()
    [garant] = client.get("/api/v1/catalog?lang=ru").json["plans"]
    assert garant["eligibility"] == {
        "unit": "register",
        "minimum": 100,
        "text": "для клиентов, у которых 100\u00a0касс и больше",
    }
    assert garant["quote_asks"] == [
        {"unit": "register", "question": "Количество касс"},
        {"unit": "store", "question": "Количество магазинов"},
    ]


def test_an_unknown_api_address_answers_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_a_wrong_method_answers_json_405(client):
    response = client.post("/api/v1/quote")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
