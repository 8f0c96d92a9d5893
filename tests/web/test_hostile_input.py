"""Hostile and odd input answers a 4xx that says why, never a 500 and never a slow worker."""

from __future__ import annotations

import re
import time

import pytest

PAGES = [
    # (catalog, path, status, what the page says)
    ("iotex", "/plans?lang=fa&start=0001-01-01", 400, "خارج از بازه سال‌های"),
    ("kbs", "/plans?term=12m&start=9998-12-31&lang=en", 400, "outside the years 1900..2200"),
    ("kbs", "/plans/prof?start=0001-01-01&lang=en", 400, "outside the years 1900..2200"),
    ("iotex", "/plans?licence_value=1.000&lang=en", 400, "write the amount without thousands"),
    ("iotex", "/plans?licence_value=120000+تومان&lang=fa", 400, "به ریال نیست"),
    ("iotex", "/plans?licence_value=2,5&lang=en", 400, "more decimals than IRR has (0)"),
    # A limit is grouped in the reader's digits.
    ("iotex", "/plans?licence_value=-1&lang=fa", 400, "۱٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰"),
    ("iotex", "/plans?licence_value=-1&lang=ru", 400, "1\u00a0000\u00a0000"),
    ("iiko", "/plans?term=3y&lang=en", 400, "Term 3y is not offered"),
    ("iotex", "/plans?licence_value=1e999999999&lang=en", 400, "must be a number more than 0"),
]


@pytest.mark.parametrize(("catalog", "path", "status", "says"), PAGES, ids=[p[1] for p in PAGES])
def test_an_odd_choice_is_refused_with_a_reason(make_app, catalog, path, status, says):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    started = time.perf_counter()
    response = client.get(path)
    assert time.perf_counter() - started < 2  # a huge exponent is refused, not computed
    assert response.status_code == status
    assert says in response.get_data(as_text=True).replace("&#39;", "'")


def test_a_licence_value_with_spaces_or_persian_digits_is_understood(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    typed_ways = (
        "1 000 000 000",
        "1,000,000,000",
        "۱٬۰۰۰٬۰۰۰٬۰۰۰",
        "۱۰۰۰۰۰۰۰۰۰ ریال",
        "1\u00a0000\u00a0000\u00a0000",
    )
    for typed in typed_ways:
        html = client.get("/plans", query_string={"licence_value": typed}).get_data(as_text=True)
        assert 'data-total="250000000"' in html


API = [
    ("service=hours&hours=1e-100000000", "invalid_amount", "hours"),
    ("plan=optima&term=1m&start=0001-01-01", "invalid_date", "start"),
]


@pytest.mark.parametrize(("query", "code", "field"), API, ids=[a[0] for a in API])
def test_the_api_refuses_odd_numbers_and_dates(client, query, code, field):
    response = client.get(f"/api/v1/quote?{query}")
    assert response.status_code == 400
    assert (response.json["error"]["code"], response.json["error"]["field"]) == (code, field)


def test_flask_sla_refuses_a_time_too_far_away_without_a_traceback(runner):
    result = runner.invoke(
        args=[
            "sla",
            "--plan",
            "premium",
            "--target",
            "reaction",
            "--opened",
            "9999-12-31T23:00:00-12:00",
            "--lang",
            "en",
        ]
    )
    assert result.exit_code != 0
    assert "outside the years" in result.output and "Traceback" not in result.output


def test_a_path_cannot_turn_the_language_links_into_links_elsewhere(client):
    response = client.get("/%5Cevil.com")
    assert response.status_code == 404
    links = re.findall(r'hreflang="[a-z]+"', response.get_data(as_text=True))
    assert len(links) == 5
    assert 'href="/\\evil.com' not in response.get_data(as_text=True)
    assert 'href="/%5Cevil.com?lang=en"' in response.get_data(as_text=True)


def test_an_htmx_request_that_fails_answers_in_the_notice_area(client):
    response = client.get("/plans/gold", headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#notice"
    assert "<html" not in response.get_data(as_text=True)


def test_the_comparison_fragment_refreshes_the_language_links_for_the_choice(client):
    fragment = client.get(
        "/plans?term=7m", headers={"HX-Request": "true", "HX-Target": "comparison"}
    ).get_data(as_text=True)
    nav = re.search(r'<nav id="languages"[^>]*hx-swap-oob="true".*?</nav>', fragment, re.S)
    assert nav and 'href="/plans?term=7m&amp;lang=ru"' in nav.group(0)


@pytest.mark.parametrize("token", ["%00", "a" * 31, "../etc"])
def test_a_confirmation_address_that_is_not_a_token_is_a_404(client, token):
    assert client.get(f"/callback/{token}").status_code == 404


def test_a_control_character_in_a_form_is_a_field_error(client, form_client, page):
    forms = form_client(client)
    data = {
        "name": "a\x00b",
        "phone": "067 123 45 67",
        "preferred_time": "asap",
        "consent": "y",
        "plan": "optima",
        "kind": "callback",
    }
    response = forms.submit("/callback?plan=optima&lang=en", "/callback?lang=en", data)
    assert response.status_code == 422
    assert "cannot be stored" in page(response.get_data(as_text=True)).error_beside("name")
