"""The comparison page: plans side by side for the client's choice, as a page and as a fragment."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from portal.catalog.comparison import quote_params, read_choice
from portal.plans import PlanError, load_catalog, parse_quote_request, quote
from portal.plans.loading import bundled_catalog_names
from portal.plans.subscriptions import renewal_start

TODAY = date(2026, 11, 22)  # the test clock's date
FRAGMENT = {"HX-Request": "true", "HX-Target": "comparison"}


def table_of(html: str) -> str:
    """The comparison table alone, without the phone's plan card that follows it."""
    return html.split('id="plan-cards"')[0]


def totals(html: str) -> dict[str, str]:
    """Each plan's displayed total, by plan code, read from the stable hooks."""
    cells = re.findall(
        r'<td data-plan="([a-z0-9-]+)">\s*<strong class="price" data-total="([^"]+)"', html
    )
    return dict(cells)


def engine_totals(catalog_name: str, query: dict[str, str]) -> dict[str, str]:
    """What the engine says each plan costs for the same choice."""
    catalog = load_catalog(catalog_name)
    choice = read_choice(catalog, query, TODAY)
    result = {}
    for plan in catalog.plans.values():
        params = quote_params(plan, choice)
        if choice.renews and plan.takes_term:
            # A renewal of the same plan: on the start chosen, else where the engine says.
            start = choice.start or renewal_start(choice.previous_end, choice.term, TODAY)
            params.update(
                previous_plan=plan.code,
                previous_end=choice.previous_end.isoformat(),
                start=start.isoformat(),
            )
        try:
            priced = quote(catalog, parse_quote_request(catalog, params, TODAY))
        except PlanError:  # a plan without a price for this choice shows none
            continue
        if priced.total is not None and plan.pricing != "included":
            result[plan.code] = str(priced.total)
    return result


CHOICES = [
    ("kbs", {"term": "7m"}),
    ("kbs", {"term": "budget:2027"}),
    ("kbs", {"term": "budget:2026"}),
    ("kbs", {"term": "6m", "renewal": "1", "previous_end": "2026-12-31"}),
    ("kbs", {"term": "6m", "renewal": "1", "previous_end": "2026-11-01"}),
    ("kbs", {"term": "budget:2027", "renewal": "1", "previous_end": "2026-12-10"}),
    ("kbs", {"term": "3m", "renewal": "1", "previous_end": "2026-12-31", "start": "2027-01-05"}),
    ("iiko", {"qty.workstation": "3", "qty.fiscal-register": "2", "billing": "half-year"}),
    ("iiko", {"qty.workstation": "2", "qty.utm": "1", "billing": "year"}),
    ("iiko", {"qty.workstation": "1", "billing": "monthly"}),
    ("iotex", {"term": "1y", "licence_value": "1234567"}),
    (
        "iotex",
        {"term": "3y", "licence_value": "1000000000", "renewal": "1", "previous_end": "2026-12-31"},
    ),
    ("crystals", {}),
    ("kvartplata", {}),
]


@pytest.mark.parametrize(("catalog", "query"), CHOICES, ids=[f"{c}:{q}" for c, q in CHOICES])
def test_every_displayed_total_is_the_engines(make_app, catalog, query):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    page = client.get("/plans", query_string=query)
    assert page.status_code == 200
    assert totals(page.get_data(as_text=True).replace("\u00a0", " ")) == engine_totals(
        catalog, query
    )


def test_optima_for_seven_months_shows_the_saving_against_month_by_month(client):
    html = client.get("/plans?term=7m&lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert totals(html)["optima"] == "40740.00"
    assert (
        "40,740.00 UAH instead of 7 × 6,420.00 UAH = 44,940.00 UAH: you save 4,200.00 UAH" in html
    )
    assert "5,820.00 UAH a month" in html


def test_the_ukrainian_page_formats_hryvnias_the_ukrainian_way(client):
    html = client.get("/plans?term=7m&lang=uk").get_data(as_text=True)
    assert "40\u00a0740,00\u00a0₴" in html
    assert 'lang="uk"' in html


def test_a_budget_year_that_costs_more_than_the_months_left_says_so(client):
    html = (
        client.get("/plans?term=budget:2026&lang=en").get_data(as_text=True).replace("\u00a0", " ")
    )
    assert "This budget year costs more than the 2 months left in it: 4,920.00 UAH." in html


def test_a_loyalty_price_is_marked_on_a_continuous_renewal(client):
    html = client.get("/plans?term=6m&renewal=1&previous_end=2026-12-31&lang=en").get_data(
        as_text=True
    )
    assert totals(html) == {"prof": "9900.00", "optima": "31860.00", "premium": "55620.00"}
    # Once in each column of the table (a phone's card repeats its plan's).
    assert table_of(html).count('<span class="badge">Loyalty price</span>') == 3


def test_iiko_shows_the_contract_and_single_requests_side_by_side_with_unit_lines(make_app):
    client = make_app(PORTAL_CATALOG="iiko").test_client()
    html = (
        client.get("/plans?qty.workstation=3&qty.fiscal-register=2&billing=year&lang=en")
        .get_data(as_text=True)
        .replace("\u00a0", " ")
    )
    # One-off: 3 × 2400 + 2 × 500 per request.
    assert totals(html) == {"contract": "38016.00", "one-off": "8200.00"}
    assert "iiko workstation: 3 × 998 × 12 months" in html
    assert "Online cash register: 2 × 500 per request" in html
    assert "you save 4,224.00 RUB" in html


def test_iotex_asks_for_the_licence_value_before_pricing(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = client.get("/plans?lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert totals(html) == {}
    assert "25% of the licence value a year: enter the licence value to see the price" in html


def test_iotex_multi_year_terms_are_for_renewals_only(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = (
        client.get("/plans?term=2y&licence_value=1000000&lang=en")
        .get_data(as_text=True)
        .replace("\u00a0", " ")
    )
    assert totals(html) == {}
    assert table_of(html).count("Offered only on a continuous renewal of this plan") == 3


def test_crystals_shows_eligibility_and_a_quote_request_instead_of_a_price(make_app):
    client = make_app(PORTAL_CATALOG="crystals").test_client()
    html = client.get("/plans?lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert "Price on request" in html
    assert "for clients with 100 cash registers or more" in html
    assert re.search(r'href="/callback\?[^"]*kind=quote', html)
    assert "data-total" not in html
    # Nothing a choice would change: no picker, no empty box, no "prices for 12 months".
    assert 'id="picker"' not in html and 'class="choice"' not in html
    assert "Prices for" not in html


def test_kvartplata_without_a_term_to_choose_draws_no_empty_picker(make_app):
    client = make_app(PORTAL_CATALOG="kvartplata").test_client()
    html = client.get("/plans?lang=en").get_data(as_text=True)
    assert 'id="picker"' not in html and 'class="choice"' not in html
    assert "Included with the licence" in html


@pytest.mark.parametrize("path", ["/", "/plans"])
def test_the_comparison_answers_at_the_root_and_at_its_canonical_address(client, path):
    html = client.get(path + "?term=7m").get_data(as_text=True).replace("\u00a0", " ")
    assert '<link rel="canonical" href="http://localhost/plans?term=7m">' in html


def test_the_canonical_address_is_on_portal_url_whatever_the_host_header(make_app):
    client = make_app(PORTAL_URL="https://portal.example").test_client()
    html = client.get("/plans?term=7m", base_url="http://evil.example").get_data(as_text=True)
    assert '<link rel="canonical" href="https://portal.example/plans?term=7m">' in html


def test_an_htmx_request_aimed_at_the_comparison_gets_the_fragment_alone(client):
    full = client.get("/plans?term=7m")
    fragment = client.get("/plans?term=7m", headers=FRAGMENT)
    assert "<html" in full.get_data(as_text=True).replace("\u00a0", " ")
    body = fragment.get_data(as_text=True).replace("\u00a0", " ")
    assert body.lstrip().startswith('<div id="comparison"')
    assert "<html" not in body and 'id="picker"' not in body
    assert 'id="price-status"' in body and 'hx-swap-oob="true"' in body
    assert fragment.headers["HX-Trigger"] == "priceChanged"
    assert totals(body) == totals(full.get_data(as_text=True).replace("\u00a0", " "))
    for response in (full, fragment):
        assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("asked", "pushed"),
    [
        ("/plans?term=7m&lang=uk", "/plans?term=7m&lang=uk"),
        ("/plans?term=7m&start=&renewal=&lang=en", "/plans?term=7m&lang=en"),
        ("/plans?term=12m", "/plans?term=12m&lang=uk"),  # the catalog's language, said aloud
    ],
)
def test_the_pushed_address_keeps_the_choice_and_its_language(client, asked, pushed):
    assert client.get(asked, headers=FRAGMENT).headers["HX-Push-Url"] == pushed


def test_an_htmx_request_aimed_elsewhere_gets_the_full_page(client):
    page = client.get("/plans?term=7m", headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<html" in page.get_data(as_text=True).replace("\u00a0", " ")


MISTAKES = [
    ("kbs", "term=13m", "term", "13m: months must be 1..12"),
    ("kbs", "term=7m&start=2026-02-30", "start", "'2026-02-30' is not a date (YYYY-MM-DD)"),
    ("kbs", "term=7m&renewal=1&previous_end=2026-13-01", "previous_end", "is not a date"),
    ("iiko", "billing=weekly", "billing", "Billing 'weekly' is not offered"),
    ("iotex", "licence_value=lots", "licence_value", "'lots' must be a number more than 0"),
]


def test_renewal_ticked_before_its_date_keeps_the_prices_and_asks_for_the_date(client):
    response = client.get("/plans?term=7m&renewal=1&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-total="40740.00"' in html  # a new period's price, until the date comes
    assert "Enter the end date of your current period to see the renewal prices." in html
    assert 'aria-invalid="true"' not in html


@pytest.mark.parametrize(
    ("catalog", "query", "field", "message"), MISTAKES, ids=[f"{m[0]}:{m[1]}" for m in MISTAKES]
)
def test_a_mistake_is_shown_beside_its_field_with_a_400(make_app, catalog, query, field, message):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    for headers in ({}, FRAGMENT):
        response = client.get(f"/plans?{query}&lang=en", headers=headers)
        assert response.status_code == 400
        html = unescape(response.get_data(as_text=True))
        error = re.search(rf'<p class="field-error" id="error-{field}"[^>]*>([^<]*)</p>', html)
        assert error and message in error.group(1)
        assert "data-total" not in html


def test_a_mistake_in_a_parameter_the_form_does_not_show_is_said_in_the_status_line(make_app):
    client = make_app(PORTAL_CATALOG="iiko").test_client()  # iiko asks for no renewal date
    response = client.get("/plans?previous_end=2026-99-99&lang=en")
    assert response.status_code == 400
    status = re.search(
        r'<span id="price-status"[^>]*>([^<]*)</span>', unescape(response.get_data(as_text=True))
    )
    assert "'2026-99-99' is not a date" in status.group(1)


@pytest.mark.parametrize("query", ["billing=monthly", "licence_value=abc"])
def test_an_option_the_catalog_does_not_have_is_left_aside(client, query):
    response = client.get(f"/plans?term=7m&{query}&lang=en")
    assert response.status_code == 200
    assert 'data-total="40740.00"' in response.get_data(as_text=True)


def test_a_mistyped_quantity_is_kept_in_its_field(make_app):
    client = make_app(PORTAL_CATALOG="iiko").test_client()
    response = client.get("/plans?qty.workstation=-2&lang=en")
    assert response.status_code == 400
    html = response.get_data(as_text=True).replace("\u00a0", " ")
    assert re.search(r'name="qty.workstation"[^>]*value="-2"[^>]*aria-invalid="true"', html)
    assert "must be a whole number from 0 to 100,000" in html  # the limit grouped to read


def test_the_term_field_is_named_term_and_offers_the_reference_codes(client):
    html = client.get("/plans").get_data(as_text=True).replace("\u00a0", " ")
    options = re.findall(
        r'<option value="([^"]+)"', html.split('name="term"')[1].split("</select>")[0]
    )
    assert options == [f"{n}m" for n in range(1, 13)] + ["budget:2026", "budget:2027"]


def test_the_picker_is_a_plain_get_form_that_htmx_enhances(client):
    html = client.get("/plans").get_data(as_text=True).replace("\u00a0", " ")
    form = re.search(r"<form id=\"picker\"[^>]*>", html).group(0)
    assert 'method="get"' in form and 'action="/plans"' in form
    assert 'hx-get="/plans"' in form and 'hx-target="#comparison"' in form
    assert 'hx-push-url="true"' in form
    assert 'aria-live="polite"' in html


@pytest.mark.parametrize("name", bundled_catalog_names())
def test_every_catalog_is_compared_in_its_own_language(make_app, name):
    catalog = load_catalog(name)
    html = (
        make_app(PORTAL_CATALOG=name)
        .test_client()
        .get("/plans")
        .get_data(as_text=True)
        .replace("\u00a0", " ")
    )
    assert f'<html lang="{catalog.locale}"' in html
    for plan in catalog.plans.values():
        assert f'data-plan="{plan.code}"' in html
        assert plan.name[catalog.locale] in html


def test_the_persian_page_is_right_to_left_in_rials_with_jalali_dates(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = client.get("/plans?licence_value=1200000000").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl"' in html
    assert "۳۰۰٬۰۰۰٬۰۰۰\u00a0ریال" in html  # 25% of 1 200 000 000
    assert "۱ آذر ۱۴۰۵" in html  # coverage starts today, 2026-11-22
    assert not re.search(r"\b20(26|27)\b", html.split("<main")[1].split("</table>")[0])
