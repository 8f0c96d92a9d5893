"""A plan's own page: prices by term, SLA targets and calendars in words, quotas, extras, scope."""

from __future__ import annotations

import pytest


def test_the_optima_page_lists_every_term_with_its_loyalty_price(client):
    html = client.get("/plans/optima?lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert "<h1>OPTIMA</h1>" in html
    for price in ("6,420.00 UAH", "40,740.00 UAH", "69,840.00 UAH", "55,620.00 UAH"):
        assert price in html
    for loyalty in ("16,830.00 UAH", "31,860.00 UAH", "45,090.00 UAH", "60,120.00 UAH"):
        assert loyalty in html
    assert "1 working day, Monday–Friday 09:00–18:00, Kyiv time, public holidays excluded" in html
    assert "Extra specialist time" in html and "5 hours for 6,900.00 UAH" in html


def test_the_iotex_premium_page_describes_its_calendar_quotas_extras_and_scope(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = client.get("/plans/premium?lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert (
        "2 working hours, Saturday–Wednesday 09:00–17:00, Tehran time, public holidays excluded"
        in html
    )
    assert "12 h a year" in html and "2 visits a year" in html
    assert "3,000,000 IRR" in html and "20,000,000 IRR" in html
    assert "Development requests: new features and changes" in html
    assert "On-site visits are booked in blocks of 4 / 8 hours." in html


def test_the_crystals_page_shows_round_the_clock_targets(make_app):
    client = make_app(PORTAL_CATALOG="crystals").test_client()
    html = client.get("/plans/garant?lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert "15 minutes, round the clock" in html
    assert "36 hours, round the clock" in html
    assert "Third-party hardware, operating systems and databases" in html


def test_the_plan_page_prices_the_choice_carried_from_the_comparison(client):
    html = client.get("/plans/optima?term=7m&lang=en").get_data(as_text=True).replace("\u00a0", " ")
    assert 'data-total="40740.00"' in html
    assert 'href="/plans?term=7m' in html


@pytest.mark.parametrize("code", ["gold", "OPTIMA", "optima%20"])
def test_an_unknown_plan_is_a_404(client, code):
    assert client.get(f"/plans/{code}").status_code == 404
