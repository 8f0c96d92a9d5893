"""Renewal offers as the account page weighs them: list prices struck through beside loyalty
prices, the best offers first, and a longer term that costs less than a shorter one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import catalog

from portal.plans import Term
from portal.plans.subscriptions import Period, renewal_offers, weigh_renewals

TODAY = date(2026, 12, 1)


def optima_choices():
    kbs = catalog("kbs")
    period = Period("optima", Term("months", 3), date(2026, 9, 8), date(2026, 12, 7))
    return {c.quote.term.code: c for c in weigh_renewals(kbs, renewal_offers(kbs, period, TODAY))}


@pytest.mark.parametrize(
    ("term", "list_price", "total"),
    [
        pytest.param("9m", "52380.00", "45090.00", id="9 months: 52 380 struck, 45 090 loyalty"),
        pytest.param("12m", "69840.00", "60120.00", id="12 months: 69 840 struck, 60 120"),
        pytest.param("1m", None, "6420.00", id="1 month has no loyalty price: nothing struck"),
    ],
)
def test_a_loyalty_price_stands_beside_the_list_price_it_replaces(term, list_price, total):
    choice = optima_choices()[term]
    assert choice.quote.total == Decimal(total)
    assert choice.list_price == (Decimal(list_price) if list_price else None)


def test_the_best_three_renewals_are_the_lowest_prices_a_month():
    best = sorted(code for code, choice in optima_choices().items() if choice.best)
    assert best == ["12m", "6m", "9m"]


def test_nine_months_at_loyalty_price_cost_less_than_eight_at_list_price():
    choice = optima_choices()["9m"]
    assert (choice.undercuts.term.code, choice.undercuts.total) == ("8m", Decimal("46560.00"))


def test_a_term_that_costs_more_than_every_shorter_one_undercuts_nothing():
    assert optima_choices()["1m"].undercuts is None
    assert optima_choices()["2m"].undercuts is None
