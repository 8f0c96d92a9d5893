"""Every price of REFERENCE-TARIFFS.md, asked as the JSON API asks it, comes out exactly."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import ask, assert_money_of, day, has_currency_decimals, money, refuse

from portal.plans import load_catalog, savings

# --- KBS (UAH): 3 plans x 12 months -------------------------------------------------------


def amounts(text):
    """A row of the reference's price table, written as it is printed there."""
    return text.split()


# The reference's table, one row per plan: the price of 1, 2, ... 12 months.
KBS_MONTH_PRICES = {
    "prof": amounts("2460 4920 7380 9840 12300 14760 17220 19680 22140 24600 27060 29520"),
    "optima": amounts("6420 12840 19260 24480 30600 36720 40740 46560 52380 58200 64020 69840"),
    "premium": amounts("10620 21240 31860 40320 50400 60480 65940 75360 84780 94200 103620 113040"),
}

# Start 2027-01-15: N months end the day before 2027-01-15 + N months.
ENDS_FROM_2027_01_15 = [
    "2027-02-14",
    "2027-03-14",
    "2027-04-14",
    "2027-05-14",
    "2027-06-14",
    "2027-07-14",
    "2027-08-14",
    "2027-09-14",
    "2027-10-14",
    "2027-11-14",
    "2027-12-14",
    "2028-01-14",
]

KBS_MONTHS = [
    pytest.param(
        plan,
        months,
        f"{price}.00",
        ENDS_FROM_2027_01_15[months - 1],
        id=f"kbs {plan} for {months} months from 2027-01-15 costs {price}.00 UAH "
        f"and ends {ENDS_FROM_2027_01_15[months - 1]}",
    )
    for plan, prices in KBS_MONTH_PRICES.items()
    for months, price in enumerate(prices, start=1)
]


@pytest.mark.parametrize(("plan", "months", "price", "ends"), KBS_MONTHS)
def test_kbs_month_price_and_coverage(plan, months, price, ends):
    priced = ask("kbs", {"plan": plan, "term": f"{months}m", "start": "2027-01-15"})

    assert priced.total == money(price)
    assert priced.currency == "UAH"
    assert priced.coverage == (day("2027-01-15"), day(ends))
    assert [(line.code, line.kind, line.amount) for line in priced.lines] == [
        (plan, "plan", money(price))
    ]
    assert priced.continuous is False
    assert sum(i.amount for i in priced.installments) == money(price)
    assert_money_of(priced)


# --- KBS budget year ----------------------------------------------------------------------

KBS_BUDGET = {"prof": "15300.00", "optima": "55620.00", "premium": "98820.00"}

BUDGET_STARTS = [
    pytest.param(plan, start, price, id=f"kbs {plan} budget:2027 from {start} costs {price}")
    for plan, price in KBS_BUDGET.items()
    for start in ("2027-01-01", "2027-06-15", "2027-12-31")
]


@pytest.mark.parametrize(("plan", "start", "price"), BUDGET_STARTS)
def test_a_budget_year_ends_on_december_31_whatever_day_it_starts(plan, start, price):
    priced = ask("kbs", {"plan": plan, "term": "budget:2027", "start": start})

    assert priced.total == money(price)
    assert priced.coverage == (day(start), day("2027-12-31"))
    assert_money_of(priced)


@pytest.mark.parametrize(
    ("today", "start"),
    [
        pytest.param(date(2026, 11, 22), "2027-01-01", id="asked in 2026 it starts on Jan 1"),
        pytest.param(date(2027, 5, 5), "2027-05-05", id="asked in May 2027 it starts today"),
    ],
)
def test_a_budget_year_without_start_starts_on_its_jan_1_or_today(today, start):
    priced = ask("kbs", {"plan": "optima", "term": "budget:2027"}, today=today)

    assert priced.coverage == (day(start), day("2027-12-31"))
    assert priced.total == money("55620.00")


@pytest.mark.parametrize(
    "start",
    [
        pytest.param("2026-12-31", id="a budget:2027 starting 2026-12-31 is refused"),
        pytest.param("2028-01-01", id="a budget:2027 starting 2028-01-01 is refused"),
    ],
)
@pytest.mark.parametrize("plan", ["prof", "optima", "premium"])
def test_a_budget_year_must_start_within_its_year(plan, start):
    assert refuse("kbs", {"plan": plan, "term": "budget:2027", "start": start}) == (
        "start_outside_budget_year",
        "start",
    )


# --- KBS loyalty prices -------------------------------------------------------------------

KBS_LOYALTY = {
    "prof": {3: 4950, 6: 9900, 9: 14850, 12: 19800},
    "optima": {3: 16830, 6: 31860, 9: 45090, 12: 60120},
    "premium": {3: 29430, 6: 55620, 9: 77490, 12: 103320},
}

LOYALTY_CASES = [
    pytest.param(
        plan,
        months,
        f"{price}.00",
        id=f"kbs {plan} renewed continuously for {months} months costs {price}.00",
    )
    for plan, prices in KBS_LOYALTY.items()
    for months, price in prices.items()
]


@pytest.mark.parametrize(("plan", "months", "price"), LOYALTY_CASES)
def test_loyalty_price_on_a_continuous_renewal_starting_the_day_after(plan, months, price):
    priced = ask(
        "kbs",
        {
            "plan": plan,
            "term": f"{months}m",
            "start": "2027-01-15",
            "previous_plan": plan,
            "previous_end": "2027-01-14",
        },
    )

    assert priced.total == money(price)
    assert priced.continuous is True
    assert [line.loyalty for line in priced.lines] == [True]
    assert_money_of(priced)


@pytest.mark.parametrize(("plan", "months", "price"), LOYALTY_CASES)
def test_loyalty_price_when_start_is_omitted_it_is_the_day_after_previous_end(plan, months, price):
    priced = ask(
        "kbs",
        {"plan": plan, "term": f"{months}m", "previous_plan": plan, "previous_end": "2027-01-14"},
    )

    assert priced.start == day("2027-01-15")
    assert priced.coverage[0] == day("2027-01-15")
    assert priced.total == money(price)
    assert priced.continuous is True


def test_renewing_before_the_previous_period_ended_is_continuous_too():
    priced = ask(
        "kbs",
        {
            "plan": "optima",
            "term": "12m",
            "start": "2027-01-10",
            "previous_plan": "optima",
            "previous_end": "2027-01-14",
        },
    )

    assert priced.total == money("60120.00")
    assert priced.continuous is True


LIST_PRICE_ON_RENEWAL = [
    pytest.param(
        {
            "plan": "optima",
            "term": "12m",
            "start": "2027-01-16",
            "previous_plan": "optima",
            "previous_end": "2027-01-14",
        },
        "69840.00",
        id="optima 12m after a one-day gap costs the list price 69840.00",
    ),
    pytest.param(
        {
            "plan": "prof",
            "term": "3m",
            "start": "2027-02-14",
            "previous_plan": "prof",
            "previous_end": "2027-01-14",
        },
        "7380.00",
        id="prof 3m a month after the previous period ended costs the list price 7380.00",
    ),
    pytest.param(
        {
            "plan": "optima",
            "term": "12m",
            "start": "2027-01-15",
            "previous_plan": "prof",
            "previous_end": "2027-01-14",
        },
        "69840.00",
        id="optima 12m right after prof (another plan) costs the list price 69840.00",
    ),
    pytest.param(
        {
            "plan": "premium",
            "term": "6m",
            "start": "2027-01-15",
            "previous_plan": "optima",
            "previous_end": "2027-01-14",
        },
        "60480.00",
        id="premium 6m right after optima costs the list price 60480.00",
    ),
]


@pytest.mark.parametrize(("params", "price"), LIST_PRICE_ON_RENEWAL)
def test_no_loyalty_price_after_a_gap_or_another_plan(params, price):
    priced = ask("kbs", params)

    assert priced.total == money(price)
    assert priced.continuous is False
    assert [line.loyalty for line in priced.lines] == [False]


NO_LOYALTY_TERM = [
    pytest.param(
        plan,
        months,
        f"{KBS_MONTH_PRICES[plan][months - 1]}.00",
        id=f"kbs {plan} renewed continuously for {months} months costs the list price "
        f"{KBS_MONTH_PRICES[plan][months - 1]}.00",
    )
    for plan in KBS_MONTH_PRICES
    for months in (1, 2, 4)
]


@pytest.mark.parametrize(("plan", "months", "price"), NO_LOYALTY_TERM)
def test_other_month_counts_on_a_continuous_renewal_cost_the_list_price(plan, months, price):
    priced = ask(
        "kbs",
        {
            "plan": plan,
            "term": f"{months}m",
            "start": "2027-01-15",
            "previous_plan": plan,
            "previous_end": "2027-01-14",
        },
    )

    assert priced.total == money(price)
    assert priced.continuous is True
    assert [line.loyalty for line in priced.lines] == [False]


# --- iiko contract: per unit per month, three billing schedules ---------------------------

ONE_WORKSTATION = {"qty.workstation": "1"}
FULL_VENUE = {
    "qty.workstation": "3",
    "qty.fiscal-register": "2",
    "qty.computer": "2",
    "qty.network": "1",
    "qty.utm": "1",
    "qty.update": "3",
    "qty.db-backup": "1",
    "qty.monthly-report": "1",
}  # 2994 + 526 + 1000 + 650 + 250 + 0 + 300 + 500 = 6220.00 a month
REGISTERS_AND_UTM = {"qty.fiscal-register": "2", "qty.utm": "1"}  # 526 + 250 = 776.00 a month

MONTHLY_DUES = [f"2027-{month:02d}-15" for month in range(1, 13)]

IIKO_CONTRACT = [
    # mix, billing, subtotal (12 months), discount, total, [(due, amount)]
    pytest.param(
        ONE_WORKSTATION,
        "monthly",
        "11976.00",
        None,
        "11976.00",
        [(due, "998.00") for due in MONTHLY_DUES],
        id="one workstation paid monthly: 12 installments of 998.00",
    ),
    pytest.param(
        ONE_WORKSTATION,
        "half-year",
        "11976.00",
        "598.80",
        "11377.20",
        [("2027-01-15", "5688.60"), ("2027-07-15", "5688.60")],
        id="one workstation paid by half-year: 5% off, 2 installments of 5688.60",
    ),
    pytest.param(
        ONE_WORKSTATION,
        "year",
        "11976.00",
        "1197.60",
        "10778.40",
        [("2027-01-15", "10778.40")],
        id="one workstation paid for the year: 10% off, one installment of 10778.40",
    ),
    pytest.param(
        FULL_VENUE,
        "monthly",
        "74640.00",
        None,
        "74640.00",
        [(due, "6220.00") for due in MONTHLY_DUES],
        id="a full venue paid monthly: 12 installments of 6220.00",
    ),
    pytest.param(
        FULL_VENUE,
        "half-year",
        "74640.00",
        "3732.00",
        "70908.00",
        [("2027-01-15", "35454.00"), ("2027-07-15", "35454.00")],
        id="a full venue paid by half-year: 5% off, 2 installments of 35454.00",
    ),
    pytest.param(
        FULL_VENUE,
        "year",
        "74640.00",
        "7464.00",
        "67176.00",
        [("2027-01-15", "67176.00")],
        id="a full venue paid for the year: 10% off, one installment of 67176.00",
    ),
    pytest.param(
        REGISTERS_AND_UTM,
        "monthly",
        "9312.00",
        None,
        "9312.00",
        [(due, "776.00") for due in MONTHLY_DUES],
        id="two registers and a UTM paid monthly: 12 installments of 776.00",
    ),
    pytest.param(
        REGISTERS_AND_UTM,
        "half-year",
        "9312.00",
        "465.60",
        "8846.40",
        [("2027-01-15", "4423.20"), ("2027-07-15", "4423.20")],
        id="two registers and a UTM paid by half-year: 2 installments of 4423.20",
    ),
    pytest.param(
        REGISTERS_AND_UTM,
        "year",
        "9312.00",
        "931.20",
        "8380.80",
        [("2027-01-15", "8380.80")],
        id="two registers and a UTM paid for the year: one installment of 8380.80",
    ),
]


@pytest.mark.parametrize(
    ("mix", "billing", "subtotal", "discount", "total", "installments"), IIKO_CONTRACT
)
def test_iiko_contract_per_unit_sums_by_billing_schedule(
    mix, billing, subtotal, discount, total, installments
):
    priced = ask(
        "iiko",
        {"plan": "contract", "term": "12m", "start": "2027-01-15", "billing": billing, **mix},
    )

    units = [line for line in priced.lines if line.kind == "unit"]
    discounts = [line.amount for line in priced.lines if line.kind == "discount"]
    assert sum(line.amount for line in units) == money(subtotal)
    assert discounts == ([] if discount is None else [-money(discount)])
    assert priced.total == money(total)
    assert [(i.due, i.amount) for i in priced.installments] == [
        (day(due), money(amount)) for due, amount in installments
    ]
    assert priced.coverage == (day("2027-01-15"), day("2028-01-14"))
    assert priced.currency == "RUB"
    assert_money_of(priced)


def test_iiko_contract_unit_lines_are_price_times_quantity_times_12_months():
    priced = ask(
        "iiko",
        {
            "plan": "contract",
            "term": "12m",
            "start": "2027-01-15",
            "billing": "monthly",
            **FULL_VENUE,
        },
    )

    assert {line.code: (line.quantity, line.unit_price, line.amount) for line in priced.lines} == {
        "workstation": (3, money("998"), money("35928.00")),
        "fiscal-register": (2, money("263"), money("6312.00")),
        "computer": (2, money("500"), money("12000.00")),
        "network": (1, money("650"), money("7800.00")),
        "utm": (1, money("250"), money("3000.00")),
        "update": (3, money("0"), money("0.00")),
        "db-backup": (1, money("300"), money("3600.00")),
        "monthly-report": (1, money("500"), money("6000.00")),
    }


def test_iiko_monthly_installments_from_a_31st_fall_on_each_month_end():
    priced = ask(
        "iiko",
        {"plan": "contract", "term": "12m", "start": "2027-01-31", "billing": "monthly"},
    )

    assert [i.due.isoformat() for i in priced.installments] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
        "2027-06-30",
        "2027-07-31",
        "2027-08-31",
        "2027-09-30",
        "2027-10-31",
        "2027-11-30",
        "2027-12-31",
    ]
    assert priced.coverage == (day("2027-01-31"), day("2028-01-30"))


def test_iiko_contract_without_billing_is_paid_monthly():
    priced = ask(
        "iiko", {"plan": "contract", "term": "12m", "start": "2027-01-15", **ONE_WORKSTATION}
    )

    assert priced.billing == "monthly"
    assert len(priced.installments) == 12
    assert priced.total == money("11976.00")


def test_iiko_contract_naming_no_unit_prices_the_default_one_workstation():
    priced = ask("iiko", {"plan": "contract", "term": "12m", "start": "2027-01-15"})

    assert [(line.code, line.quantity) for line in priced.lines] == [("workstation", 1)]
    assert priced.total == money("11976.00")


# --- iiko one-off: per unit per request ---------------------------------------------------

IIKO_ONE_OFF = [
    pytest.param({"qty.workstation": "1"}, "2400.00", id="one workstation costs 2400.00"),
    pytest.param(
        {"qty.workstation": "2", "qty.fiscal-register": "1", "qty.update": "2"},
        "8300.00",
        id="two workstations, a register and two updates cost 4800 + 500 + 3000 = 8300.00",
    ),
    pytest.param(
        {"qty.computer": "1", "qty.network": "1", "qty.utm": "1", "qty.db-backup": "1"},
        "3150.00",
        id="a computer, a network, a UTM and a backup cost 1000 + 950 + 400 + 800 = 3150.00",
    ),
    pytest.param(
        {
            "qty.workstation": "1",
            "qty.fiscal-register": "1",
            "qty.computer": "1",
            "qty.network": "1",
            "qty.utm": "1",
            "qty.update": "1",
            "qty.db-backup": "1",
        },
        "7550.00",
        id="one of each of the seven units costs 7550.00",
    ),
]


@pytest.mark.parametrize(("mix", "total"), IIKO_ONE_OFF)
def test_iiko_one_off_per_request_sums(mix, total):
    priced = ask("iiko", {"plan": "one-off", "start": "2027-01-15", **mix})

    assert priced.total == money(total)
    assert priced.coverage is None
    assert [(i.due, i.amount) for i in priced.installments] == [(day("2027-01-15"), money(total))]
    assert_money_of(priced)


def test_iiko_monthly_report_is_not_offered_on_one_off():
    assert refuse("iiko", {"plan": "one-off", "qty.monthly-report": "1"}) == (
        "unit_not_offered",
        "qty.monthly-report",
    )


def test_iiko_one_off_takes_no_term():
    assert refuse("iiko", {"plan": "one-off", "term": "12m", "qty.workstation": "1"}) == (
        "term_not_applicable",
        "term",
    )


# --- Iotex (IRR): a percentage of the licence value, whole rials --------------------------

IOTEX_ONE_YEAR = [
    pytest.param("basic", "10", "3", id="basic: 25% of 10 is 2.5, rounded half-up to 3"),
    pytest.param(
        "basic",
        "1234567890",
        "308641973",
        id="basic: 25% of 1234567890 is 308641972.5, rounded half-up to 308641973",
    ),
    pytest.param("basic", "2000000000", "500000000", id="basic: 25% of 2000000000 is 500000000"),
    pytest.param("standard", "15", "5", id="standard: 30% of 15 is 4.5, rounded half-up to 5"),
    pytest.param(
        "standard",
        "1000000005",
        "300000002",
        id="standard: 30% of 1000000005 is 300000001.5, rounded half-up to 300000002",
    ),
    pytest.param("standard", "7", "2", id="standard: 30% of 7 is 2.1, rounded down to 2"),
    pytest.param("premium", "10", "4", id="premium: 35% of 10 is 3.5, rounded half-up to 4"),
    pytest.param(
        "premium",
        "1234567",
        "432098",
        id="premium: 35% of 1234567 is 432098.45, rounded down to 432098",
    ),
    pytest.param(
        "premium",
        "999999999",
        "350000000",
        id="premium: 35% of 999999999 is 349999999.65, rounded up to 350000000",
    ),
]


@pytest.mark.parametrize(("plan", "licence", "price"), IOTEX_ONE_YEAR)
def test_iotex_one_year_is_a_percentage_of_the_licence_value(plan, licence, price):
    priced = ask(
        "iotex", {"plan": plan, "term": "1y", "start": "2027-03-21", "licence_value": licence}
    )

    assert priced.total == money(price)
    assert priced.currency == "IRR"
    assert priced.coverage == (day("2027-03-21"), day("2028-03-20"))
    assert [line.amount for line in priced.lines] == [money(price)]
    assert_money_of(priced)


IOTEX_MULTI_YEAR = [
    # plan, years, licence, first line (percentage x years), renewal discount, total
    pytest.param(
        "basic",
        "2y",
        "1000000000",
        "500000000",
        "50000000",
        "450000000",
        id="basic 2y renewal of 1000000000: 500000000 less 10% = 450000000",
    ),
    pytest.param(
        "premium",
        "3y",
        "1000000000",
        "1050000000",
        "157500000",
        "892500000",
        id="premium 3y renewal of 1000000000: 1050000000 less 15% = 892500000",
    ),
    pytest.param(
        "basic",
        "2y",
        "123456789",
        "61728395",
        "6172840",
        "55555555",
        id="basic 2y renewal of 123456789: 61728394.5 -> 61728395 less 6172840 = 55555555",
    ),
    pytest.param(
        "basic",
        "3y",
        "1234567",
        "925925",
        "138889",
        "787036",
        id="basic 3y renewal of 1234567: 925925.25 -> 925925 less 138889 = 787036",
    ),
    pytest.param(
        "standard",
        "2y",
        "1234567",
        "740740",
        "74074",
        "666666",
        id="standard 2y renewal of 1234567: 740740.2 -> 740740 less 74074 = 666666",
    ),
    pytest.param(
        "standard",
        "3y",
        "7654321",
        "6888889",
        "1033333",
        "5855556",
        id="standard 3y renewal of 7654321: 6888888.9 -> 6888889 less 1033333 = 5855556",
    ),
    pytest.param(
        "premium",
        "2y",
        "7654321",
        "5358025",
        "535803",
        "4822222",
        id="premium 2y renewal of 7654321: 5358024.7 -> 5358025 less 535803 = 4822222",
    ),
    pytest.param(
        "premium",
        "3y",
        "1000000001",
        "1050000001",
        "157500000",
        "892500001",
        id="premium 3y renewal of 1000000001: 1050000001.05 -> 1050000001 less 15% = 892500001",
    ),
    # Each line is rounded on its own (the reference's rule), not the discounted total once:
    # 617283.5 -> 617284, its 10% 61728.4 -> 61728, so 555556 where one rounding gives 555555.
    pytest.param(
        "basic",
        "2y",
        "1234567",
        "617284",
        "61728",
        "555556",
        id="basic 2y renewal of 1234567 rounds each line: 617284 less 61728 = 555556",
    ),
]


@pytest.mark.parametrize(("plan", "term", "licence", "base", "discount", "total"), IOTEX_MULTI_YEAR)
def test_iotex_multi_year_on_a_continuous_renewal_is_discounted(
    plan, term, licence, base, discount, total
):
    priced = ask(
        "iotex",
        {
            "plan": plan,
            "term": term,
            "start": "2027-03-21",
            "licence_value": licence,
            "previous_plan": plan,
            "previous_end": "2027-03-20",
        },
    )

    assert [(line.kind, line.amount) for line in priced.lines] == [
        ("plan", money(base)),
        ("discount", -money(discount)),
    ]
    assert priced.total == money(total)
    assert priced.continuous is True
    assert_money_of(priced)


@pytest.mark.parametrize(
    ("term", "ends"),
    [
        pytest.param("2y", "2029-03-20", id="a 2y renewal from 2027-03-21 ends 2029-03-20"),
        pytest.param("3y", "2030-03-20", id="a 3y renewal from 2027-03-21 ends 2030-03-20"),
    ],
)
def test_iotex_multi_year_coverage(term, ends):
    priced = ask(
        "iotex",
        {
            "plan": "standard",
            "term": term,
            "licence_value": "1000000000",
            "previous_plan": "standard",
            "previous_end": "2027-03-20",
        },
    )

    assert priced.coverage == (day("2027-03-21"), day(ends))


def test_iotex_one_year_renewal_has_no_discount():
    priced = ask(
        "iotex",
        {
            "plan": "basic",
            "term": "1y",
            "licence_value": "1000000000",
            "previous_plan": "basic",
            "previous_end": "2027-03-20",
        },
    )

    assert priced.continuous is True
    assert priced.total == money("250000000")
    assert [line.kind for line in priced.lines] == ["plan"]


IOTEX_RENEWAL_REQUIRED = [
    pytest.param(
        {"plan": "basic", "term": "2y", "start": "2027-03-21"},
        id="basic 2y for a new client is refused",
    ),
    pytest.param(
        {"plan": "premium", "term": "3y", "start": "2027-03-21"},
        id="premium 3y for a new client is refused",
    ),
    pytest.param(
        {
            "plan": "standard",
            "term": "2y",
            "start": "2027-03-22",
            "previous_plan": "standard",
            "previous_end": "2027-03-20",
        },
        id="standard 2y after a one-day gap is refused",
    ),
    pytest.param(
        {
            "plan": "premium",
            "term": "3y",
            "start": "2027-03-21",
            "previous_plan": "standard",
            "previous_end": "2027-03-20",
        },
        id="premium 3y right after standard (another plan) is refused",
    ),
]


@pytest.mark.parametrize("params", IOTEX_RENEWAL_REQUIRED)
def test_iotex_multi_year_needs_a_continuous_renewal(params):
    assert refuse("iotex", {"licence_value": "1000000000", **params}) == (
        "renewal_required",
        "term",
    )


def test_iotex_needs_the_licence_value():
    assert refuse("iotex", {"plan": "basic", "term": "1y"}) == (
        "licence_value_required",
        "licence_value",
    )


# --- Crystals: price on request for 100 registers or more ---------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="garant without a register count is on request"),
        pytest.param({"qty.register": "100"}, id="garant for 100 registers is on request"),
        pytest.param({"qty.register": "2500"}, id="garant for 2500 registers is on request"),
    ],
)
def test_crystals_garant_is_price_on_request(params):
    priced = ask("crystals", {"plan": "garant", "term": "12m", **params})

    assert priced.total is None
    assert priced.on_request is True
    assert [(line.code, line.amount) for line in priced.lines] == [("garant", None)]
    assert priced.installments == ()


def test_crystals_garant_below_100_registers_is_refused():
    assert refuse("crystals", {"plan": "garant", "term": "12m", "qty.register": "99"}) == (
        "below_minimum",
        "qty.register",
    )


# --- Kvartplata: remote sessions by the hour, minimum 1 hour, one-time fee ----------------

KVARTPLATA = [
    pytest.param(
        {"service": "remote-backup", "hours": "0.5"},
        [("remote-backup", "1300.00")],
        "1300.00",
        id="remote-backup for half an hour is billed 1 hour: 1300.00",
    ),
    pytest.param(
        {"service": "remote-backup", "hours": "1"},
        [("remote-backup", "1300.00")],
        "1300.00",
        id="remote-backup for 1 hour costs 1300.00",
    ),
    pytest.param(
        {"service": "remote-backup", "hours": "2.5"},
        [("remote-backup", "3250.00")],
        "3250.00",
        id="remote-backup for 2.5 hours costs 3250.00",
    ),
    pytest.param(
        {"service": "remote-backup", "hours": "1.25"},
        [("remote-backup", "1625.00")],
        "1625.00",
        id="remote-backup for 1.25 hours costs 1625.00",
    ),
    pytest.param(
        {"service": "remote-backup"},
        [("remote-backup", "1300.00")],
        "1300.00",
        id="remote-backup without hours is the 1-hour minimum: 1300.00",
    ),
    pytest.param(
        {"service": "remote-direct", "hours": "1"},
        [("remote-direct", "1300.00"), ("connection-fee", "4000.00")],
        "5300.00",
        id="remote-direct the first time adds the 4000.00 connection fee: 5300.00",
    ),
    pytest.param(
        {"service": "remote-direct", "hours": "2.5", "first_time": "true"},
        [("remote-direct", "3250.00"), ("connection-fee", "4000.00")],
        "7250.00",
        id="remote-direct for 2.5 hours the first time costs 3250.00 + 4000.00",
    ),
    pytest.param(
        {"service": "remote-direct", "hours": "0.5", "first_time": "true"},
        [("remote-direct", "1300.00"), ("connection-fee", "4000.00")],
        "5300.00",
        id="remote-direct for half an hour the first time costs 1300.00 + 4000.00",
    ),
    pytest.param(
        {"service": "remote-direct", "hours": "2.5", "first_time": "false"},
        [("remote-direct", "3250.00")],
        "3250.00",
        id="remote-direct after the first time has no fee: 3250.00",
    ),
]


@pytest.mark.parametrize(("params", "lines", "total"), KVARTPLATA)
def test_kvartplata_remote_sessions(params, lines, total):
    priced = ask("kvartplata", params)

    assert [(line.code, line.amount) for line in priced.lines] == [
        (code, money(amount)) for code, amount in lines
    ]
    assert priced.total == money(total)
    assert [(i.due, i.amount) for i in priced.installments] == [(date(2026, 11, 22), money(total))]
    assert_money_of(priced)


def test_kvartplata_licence_plan_is_included_at_no_charge():
    priced = ask("kvartplata", {"plan": "licence"})

    assert priced.total == money("0.00")
    assert_money_of(priced)


# --- KBS extra hours: the cheapest mix of 5-hour bundles and single hours -----------------

KBS_HOURS = {
    1: "1500.00",
    2: "3000.00",
    3: "4500.00",
    4: "6000.00",
    5: "6900.00",
    6: "8400.00",
    7: "9900.00",
    8: "11400.00",
    9: "12900.00",
    10: "13800.00",
    11: "15300.00",
    12: "16800.00",
    13: "18300.00",
    23: "32100.00",
}


@pytest.mark.parametrize(
    ("hours", "total"),
    [pytest.param(h, t, id=f"{h} extra hours cost {t}") for h, t in KBS_HOURS.items()],
)
def test_kbs_hours_cost_the_cheapest_mix(hours, total):
    priced = ask("kbs", {"service": "hours", "hours": str(hours)})

    assert priced.total == money(total)
    assert_money_of(priced)


def test_kbs_13_hours_are_2_bundles_and_3_single_hours():
    priced = ask("kbs", {"service": "hours", "hours": "13"})

    assert [
        (line.kind, line.bundle_hours, line.quantity, line.unit_price, line.amount)
        for line in priced.lines
    ] == [
        ("bundle", 5, 2, money("6900.00"), money("13800.00")),
        ("hours", None, 3, money("1500.00"), money("4500.00")),
    ]


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param("1.5", id="1.5 extra hours are refused"),
        pytest.param("0.5", id="half an extra hour is refused"),
        pytest.param("12.25", id="12.25 extra hours are refused"),
    ],
)
def test_kbs_hours_are_sold_in_whole_hours(hours):
    assert refuse("kbs", {"service": "hours", "hours": hours}) == ("invalid_hours", "hours")


# --- Iotex extras: fixed prices in whole rials --------------------------------------------

IOTEX_EXTRAS = [
    pytest.param("extra-visit", "1", "3000000", id="one extra visit costs 3000000"),
    pytest.param("extra-visit", "3", "9000000", id="three extra visits cost 9000000"),
    pytest.param("launch-2d", "1", "14000000", id="a 2-day launch costs 14000000"),
    pytest.param("launch-3d", "1", "20000000", id="a 3-day launch costs 20000000"),
    pytest.param("server-move", "1", "5000000", id="a server move costs 5000000"),
]


@pytest.mark.parametrize(("service", "quantity", "total"), IOTEX_EXTRAS)
def test_iotex_extras(service, quantity, total):
    priced = ask("iotex", {"service": service, "quantity": quantity})

    assert priced.total == money(total)
    assert_money_of(priced)


# --- Money carries the currency's decimals ------------------------------------------------


@pytest.mark.parametrize(
    ("catalog_name", "params", "currency"),
    [
        pytest.param(
            "kbs", {"plan": "prof", "term": "1m"}, "UAH", id="kbs money is UAH, 2 decimals"
        ),
        pytest.param(
            "iiko",
            {"plan": "contract", "term": "12m", "billing": "half-year"},
            "RUB",
            id="iiko money is RUB, 2 decimals",
        ),
        pytest.param(
            "iotex",
            {"plan": "premium", "term": "1y", "licence_value": "1234567"},
            "IRR",
            id="iotex money is IRR, 0 decimals",
        ),
        pytest.param(
            "kvartplata",
            {"service": "remote-direct", "hours": "1.75"},
            "RUB",
            id="kvartplata money is RUB, 2 decimals",
        ),
    ],
)
def test_money_is_decimal_with_the_currency_decimals(catalog_name, params, currency):
    priced = ask(catalog_name, params)

    assert priced.currency == currency
    assert has_currency_decimals(priced.total, currency)
    assert_money_of(priced)


# --- what a choice saves, or costs more -----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "cheaper"),
    [
        pytest.param(
            {"plan": "optima", "term": "budget:2027", "start": "2027-07-01"},
            ("6m", "36720.00"),
            id="half a budget year costs more than 6 months at the list price",
        ),
        pytest.param(
            {
                "plan": "optima",
                "term": "budget:2027",
                "previous_plan": "optima",
                "previous_end": "2027-06-30",
            },
            ("6m", "31860.00"),
            id="on a continuous renewal, than 6 months at the loyalty price",
        ),
    ],
)
def test_a_budget_year_dearer_than_its_months_names_the_cheaper_price(params, cheaper):
    saved = savings(load_catalog("kbs"), ask("kbs", params))
    assert (saved.cheaper_term.code, str(saved.cheaper_price)) == cheaper
