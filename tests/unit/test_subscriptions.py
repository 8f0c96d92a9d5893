"""Days left, renewal offers and prorated upgrades of a paid period, as tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import catalog

from portal.plans import PlanError, Term
from portal.plans.requests import PlanQuoteRequest
from portal.plans.subscriptions import Period, is_orderable, renewal_offers, upgrade

OPTIMA_7M = Period("optima", Term("months", 7), date(2026, 11, 22), date(2027, 6, 21))


@pytest.mark.parametrize(
    ("period", "today", "days_left"),
    [
        pytest.param(
            OPTIMA_7M, date(2026, 11, 22), 212, id="on its first day all 212 days are left"
        ),
        pytest.param(OPTIMA_7M, date(2026, 11, 1), 212, id="before it starts all days are left"),
        pytest.param(OPTIMA_7M, date(2027, 6, 21), 1, id="on its last day one day is left"),
        pytest.param(OPTIMA_7M, date(2027, 6, 22), 0, id="the day after it ends none is left"),
    ],
)
def test_days_left_count_today_and_the_last_day(period, today, days_left):
    assert period.days == 212
    assert period.days_left(today) == days_left


def offers_by_term(offers):
    return {offer.term.code: (offer.start, offer.total, offer.continuous) for offer in offers}


@pytest.mark.parametrize(
    ("today", "term", "start", "total", "continuous"),
    [
        pytest.param(
            date(2027, 6, 1),
            "12m",
            date(2027, 6, 22),
            Decimal("60120.00"),
            True,
            id="renewed early, 12 months start the day after the end at the loyalty price",
        ),
        pytest.param(
            date(2027, 6, 1),
            "7m",
            date(2027, 6, 22),
            Decimal("40740.00"),
            True,
            id="renewed early, 7 months have no loyalty price and cost the list price",
        ),
        pytest.param(
            date(2027, 6, 22),
            "3m",
            date(2027, 6, 22),
            Decimal("16830.00"),
            True,
            id="renewed the day after the end, still continuous",
        ),
        pytest.param(
            date(2027, 6, 23),
            "3m",
            date(2027, 6, 23),
            Decimal("19260.00"),
            False,
            id="renewed two days after the end, a gap, the list price",
        ),
        pytest.param(
            date(2027, 6, 1),
            "budget:2027",
            date(2027, 6, 22),
            Decimal("55620.00"),
            True,
            id="a budget year is the year the renewal starts in",
        ),
    ],
)
def test_renewal_offers_of_kbs_optima(today, term, start, total, continuous):
    offers = offers_by_term(renewal_offers(catalog("kbs"), OPTIMA_7M, today))
    assert offers[term] == (start, total, continuous)


def test_iotex_multi_year_renewals_are_offered_only_while_continuous():
    iotex = catalog("iotex")
    period = Period("standard", Term("years", 1), date(2026, 1, 1), date(2026, 12, 31))
    options = PlanQuoteRequest(
        plan="standard",
        term=Term("years", 1),
        start=period.start,
        licence_value=Decimal("1000000000"),
    )
    continuous = offers_by_term(renewal_offers(iotex, period, date(2026, 12, 1), options))
    gapped = offers_by_term(renewal_offers(iotex, period, date(2027, 1, 5), options))
    assert set(continuous) == {"1y", "2y", "3y"}
    assert set(gapped) == {"1y"}


@pytest.mark.parametrize(
    ("new_plan", "today", "days_left", "amount"),
    [
        pytest.param(
            "premium",
            date(2027, 1, 1),
            172,
            Decimal(65940 - 40740) * 172 / 212,
            id="OPTIMA to PREMIUM on January 1 charges 25 200 × 172 / 212",
        ),
        pytest.param(
            "premium",
            date(2026, 11, 22),
            212,
            Decimal("25200.00"),
            id="on the first day the whole difference",
        ),
        pytest.param(
            "premium",
            date(2027, 6, 21),
            1,
            Decimal(25200) / 212,
            id="on the last day one day's share",
        ),
    ],
)
def test_an_upgrade_charges_the_difference_prorated_by_the_days_left(
    new_plan, today, days_left, amount
):
    quote, proration = upgrade(catalog("kbs"), OPTIMA_7M, new_plan, today)
    assert (proration.old_price, proration.new_price) == (Decimal("40740"), Decimal("65940"))
    assert (proration.days_left, proration.days) == (days_left, 212)
    assert proration.amount == amount.quantize(Decimal("0.01"))
    assert quote.total == proration.amount == sum(line.amount for line in quote.lines)
    assert quote.coverage == (max(today, OPTIMA_7M.start), OPTIMA_7M.end)
    assert [i.amount for i in quote.installments] == [quote.total]


@pytest.mark.parametrize(
    ("new_plan", "today", "code"),
    [
        pytest.param("prof", date(2027, 1, 1), "not_an_upgrade", id="a cheaper plan is no upgrade"),
        pytest.param("optima", date(2027, 1, 1), "same_plan", id="the same plan is no upgrade"),
        pytest.param("premium", date(2027, 6, 22), "period_over", id="no day left, no upgrade"),
        pytest.param("gold", date(2027, 1, 1), "unknown_plan", id="an unknown plan is refused"),
    ],
)
def test_upgrades_refused(new_plan, today, code):
    with pytest.raises(PlanError) as refused:
        upgrade(catalog("kbs"), OPTIMA_7M, new_plan, today)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("catalog_name", "plan", "orderable"),
    [
        pytest.param("kbs", "optima", True, id="a KBS plan is ordered online"),
        pytest.param("iiko", "contract", True, id="the iiko contract is ordered online"),
        pytest.param("iiko", "one-off", False, id="iiko one-off visits are paid per request"),
        pytest.param("crystals", "garant", False, id="Crystals GARANT is priced on request"),
        pytest.param("iotex", "premium", True, id="an Iotex plan is ordered online"),
        pytest.param("kbs", "nonsense", False, id="an unknown plan is not"),
    ],
)
def test_which_plans_are_ordered_online(catalog_name, plan, orderable):
    assert is_orderable(catalog(catalog_name), plan) is orderable
