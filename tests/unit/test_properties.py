"""Properties of quotes and SLA clocks over random valid inputs of the five catalogs.

The working-time checks compare the engine with a slow reference written here: it walks
the calendar day by day, with the calendars spelled out from REFERENCE-TARIFFS.md and the
days off read straight from the ``holidays`` package.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest
from conftest import BUNDLED, DECIMALS, ask, catalog
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.plans import due_at
from portal.plans.sla import add_working_time

# Modest and reproducible: no example database written into the repository, no deadline
# flakiness on a slow machine.
PROPERTY = settings(max_examples=200, deadline=None, database=None)

START_DATES = st.dates(date(2025, 1, 1), date(2030, 12, 31))


# --- quotes --------------------------------------------------------------------------------


@st.composite
def kbs_requests(draw):
    if draw(st.booleans()):
        return {"service": "hours", "hours": str(draw(st.integers(1, 200)))}
    plan = draw(st.sampled_from(["prof", "optima", "premium"]))
    if draw(st.booleans()):
        start = draw(START_DATES)
        params = {"plan": plan, "term": f"{draw(st.integers(1, 12))}m"}
    else:
        year = draw(st.integers(2025, 2030))
        start = draw(st.dates(date(year, 1, 1), date(year, 12, 31)))
        params = {"plan": plan, "term": f"budget:{year}"}
    if draw(st.booleans()):
        gap = draw(st.integers(-5, 5))
        params["previous_plan"] = draw(st.sampled_from(["prof", "optima", "premium"]))
        params["previous_end"] = (start - timedelta(days=1 + gap)).isoformat()
    return {**params, "start": start.isoformat()}


IIKO_UNITS = [
    "workstation",
    "fiscal-register",
    "computer",
    "network",
    "utm",
    "update",
    "db-backup",
    "monthly-report",
]


@st.composite
def iiko_requests(draw):
    contract = draw(st.booleans())
    units = IIKO_UNITS if contract else IIKO_UNITS[:-1]
    quantities = draw(st.dictionaries(st.sampled_from(units), st.integers(0, 60)))
    quantities[draw(st.sampled_from(units))] = draw(st.integers(1, 60))  # at least one unit
    params = {f"qty.{unit}": str(n) for unit, n in quantities.items()}
    params["start"] = draw(START_DATES).isoformat()
    if contract:
        params.update(plan="contract", term="12m")
        billing = draw(st.sampled_from([None, "monthly", "half-year", "year"]))
        if billing:
            params["billing"] = billing
    else:
        params["plan"] = "one-off"
    return params


@st.composite
def iotex_requests(draw):
    if draw(st.booleans()):
        service = draw(st.sampled_from(["extra-visit", "launch-2d", "launch-3d", "server-move"]))
        return {"service": service, "quantity": str(draw(st.integers(1, 10)))}
    plan = draw(st.sampled_from(["basic", "standard", "premium"]))
    licence = draw(st.integers(min_value=1, max_value=10**12))  # whole rials
    start = draw(START_DATES)
    params = {"plan": plan, "licence_value": str(licence), "start": start.isoformat()}
    term = draw(st.sampled_from(["1y", "2y", "3y"]))
    params["term"] = term
    if term != "1y" or draw(st.booleans()):
        params["previous_plan"] = plan
        params["previous_end"] = (start - timedelta(days=1)).isoformat()
    return params


@st.composite
def crystals_requests(draw):
    params = {"plan": "garant", "term": "12m", "start": draw(START_DATES).isoformat()}
    if draw(st.booleans()):
        params["qty.register"] = str(draw(st.integers(100, 5000)))
    return params


@st.composite
def kvartplata_requests(draw):
    if draw(st.booleans()):
        return {"plan": "licence"}
    hours = draw(st.decimals(min_value=Decimal("0.01"), max_value=100, places=2))
    return {
        "service": draw(st.sampled_from(["remote-backup", "remote-direct"])),
        "hours": str(hours),
        "first_time": draw(st.sampled_from(["true", "false"])),
    }


REQUESTS = st.one_of(
    st.tuples(st.just("kbs"), kbs_requests()),
    st.tuples(st.just("iiko"), iiko_requests()),
    st.tuples(st.just("iotex"), iotex_requests()),
    st.tuples(st.just("crystals"), crystals_requests()),
    st.tuples(st.just("kvartplata"), kvartplata_requests()),
)


def in_minor_units(amount, currency):
    return isinstance(amount, Decimal) and amount.as_tuple().exponent == -DECIMALS[currency]


@PROPERTY
@given(REQUESTS)
def test_a_total_is_the_sum_of_its_lines_and_of_its_installments(case):
    catalog_name, params = case
    priced = ask(catalog_name, params)

    if priced.total is None:
        assert catalog_name == "crystals"
        assert [line.amount for line in priced.lines] == [None]
        assert priced.installments == ()
        return
    assert priced.total == sum((line.amount for line in priced.lines), Decimal(0))
    assert sum((i.amount for i in priced.installments), Decimal(0)) == priced.total
    amounts = [priced.total] + [line.amount for line in priced.lines]
    amounts += [i.amount for i in priced.installments]
    assert all(in_minor_units(a, priced.currency) for a in amounts), amounts


@PROPERTY
@given(REQUESTS)
def test_installments_are_due_in_order_from_the_start(case):
    catalog_name, params = case
    priced = ask(catalog_name, params)

    dues = [i.due for i in priced.installments]
    assert dues == sorted(dues)
    if dues and priced.start is not None:
        assert dues[0] == priced.start
    if priced.coverage is not None:
        assert all(priced.coverage[0] <= due <= priced.coverage[1] for due in dues)


# --- SLA clocks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceCalendar:
    zone: str
    weekdays: frozenset  # 0 = Monday
    opens: time
    closes: time
    country: str
    shortened: timedelta = timedelta(0)  # on the working day before a public holiday

    @property
    def day_length(self):
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)


MON_FRI = frozenset({0, 1, 2, 3, 4})
SAT_WED = frozenset({5, 6, 0, 1, 2})

# The calendars of REFERENCE-TARIFFS.md, by (catalog, calendar code).
REFERENCE_CALENDARS = {
    ("kbs", "office"): ReferenceCalendar("Europe/Kyiv", MON_FRI, time(9), time(18), "UA"),
    ("iiko", "contract"): ReferenceCalendar(
        "Asia/Omsk", MON_FRI, time(9), time(18), "RU", timedelta(hours=1)
    ),
    ("iiko", "one-off"): ReferenceCalendar(
        "Asia/Omsk", MON_FRI, time(10), time(17), "RU", timedelta(hours=1)
    ),
    ("iotex", "office"): ReferenceCalendar("Asia/Tehran", SAT_WED, time(9), time(17), "IR"),
}


@functools.cache
def days_off_and_decreed(country, year):
    listed = holidays.country_holidays(country, years=year)
    return frozenset(listed), frozenset(listed.weekend_workdays)


def is_working(ref, day):
    days_off, decreed = days_off_and_decreed(ref.country, day.year)
    return day in decreed or (day.weekday() in ref.weekdays and day not in days_off)


# The public holidays of the Russian Labour Code, article 112, as (month, day): the working
# day before one is an hour shorter (article 95). Written out here, not read from `holidays`.
RUSSIAN_HOLIDAYS = frozenset(
    {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
)


def closes_on(ref, day):
    """The closing time of a working ``day``: an hour early before a Russian holiday."""
    following = day + timedelta(days=1)
    if ref.shortened and (following.month, following.day) in RUSSIAN_HOLIDAYS:
        return (datetime.combine(day, ref.closes) - ref.shortened).time()
    return ref.closes


def slow_add(ref, opened, span):
    """``opened`` + ``span`` of working time, walking one calendar day at a time."""
    zone = ZoneInfo(ref.zone)
    local = opened.astimezone(zone).replace(tzinfo=None)
    day, left = local.date(), span
    while True:
        if is_working(ref, day):
            start = max(local, datetime.combine(day, ref.opens))
            closes = datetime.combine(day, closes_on(ref, day))
            if start < closes:
                if left <= closes - start:
                    return (start + left).replace(tzinfo=zone)
                left -= closes - start
        day += timedelta(days=1)


def slow_working_time_between(ref, first, last):
    """Working time between two aware datetimes, summed one calendar day at a time."""
    zone = ZoneInfo(ref.zone)
    a = first.astimezone(zone).replace(tzinfo=None)
    b = last.astimezone(zone).replace(tzinfo=None)
    total, day = timedelta(0), a.date()
    while day <= b.date():
        if is_working(ref, day):
            start = max(a, datetime.combine(day, ref.opens))
            end = min(b, datetime.combine(day, closes_on(ref, day)))
            total += max(end - start, timedelta(0))
        day += timedelta(days=1)
    return total


def in_working_time_or_at_closing(ref, moment):
    local = moment.astimezone(ZoneInfo(ref.zone))
    day = local.date()
    return is_working(ref, day) and ref.opens < local.time() <= closes_on(ref, day)


@pytest.mark.parametrize(
    ("catalog_name", "code"),
    [
        pytest.param(*key, id=f"{key[0]} calendar {key[1]} is the reference's")
        for key in REFERENCE_CALENDARS
    ],
)
def test_the_bundled_calendars_are_those_of_the_reference(catalog_name, code):
    engine = catalog(catalog_name).calendars[code]
    ref = REFERENCE_CALENDARS[(catalog_name, code)]

    assert (engine.timezone, engine.days, engine.opens, engine.closes) == (
        ref.zone,
        ref.weekdays,
        ref.opens,
        ref.closes,
    )
    assert engine.holidays_country == ref.country
    assert engine.working_day == ref.day_length
    assert engine.shortened_before_holidays == ref.shortened


TARGETS = [
    (name, plan.code, target)
    for name in BUNDLED
    for plan in catalog(name).plans.values()
    for target in plan.sla
]

OFFSETS = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
OPENED = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)),
    OFFSETS,
)


def reference_of(catalog_name, plan_code):
    return REFERENCE_CALENDARS[(catalog_name, catalog(catalog_name).plans[plan_code].calendar)]


@PROPERTY
@given(st.sampled_from(TARGETS), OPENED)
def test_a_deadline_is_never_before_the_request_and_falls_in_working_time(target, opened):
    catalog_name, plan, code = target
    answer = due_at(catalog(catalog_name), plan, code, opened)

    assert answer.due >= opened
    if answer.expected is not None:
        assert opened <= answer.expected < answer.due
    if answer.clock == "working":
        ref = reference_of(catalog_name, plan)
        assert in_working_time_or_at_closing(ref, answer.due)
        assert answer.due.tzinfo == ZoneInfo(ref.zone)
        assert answer.due.utcoffset() == answer.due.astimezone(ZoneInfo(ref.zone)).utcoffset()


@PROPERTY
@given(
    st.sampled_from(TARGETS),
    OPENED,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
)
def test_a_later_request_is_never_due_earlier(target, opened, later_by):
    catalog_name, plan, code = target
    book = catalog(catalog_name)

    first = due_at(book, plan, code, opened)
    second = due_at(book, plan, code, opened + later_by)

    assert first.due <= second.due


CALENDARS = sorted(REFERENCE_CALENDARS)


@PROPERTY
@given(st.sampled_from(CALENDARS), OPENED)
def test_thirty_working_days_are_thirty_working_day_lengths_of_working_time(key, opened):
    ref = REFERENCE_CALENDARS[key]
    calendar = catalog(key[0]).calendars[key[1]]
    span = 30 * ref.day_length

    due = add_working_time(calendar, opened, span)

    assert slow_working_time_between(ref, opened, due) == span
    assert in_working_time_or_at_closing(ref, due)
    assert due.isoformat() == slow_add(ref, opened, span).isoformat()


@PROPERTY
@given(
    st.sampled_from(CALENDARS),
    OPENED,
    st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(hours=200)),
)
def test_any_working_span_ends_where_the_day_by_day_walk_ends(key, opened, span):
    ref = REFERENCE_CALENDARS[key]
    calendar = catalog(key[0]).calendars[key[1]]
    span = timedelta(seconds=int(span.total_seconds()))

    due = add_working_time(calendar, opened, span)

    assert due.isoformat() == slow_add(ref, opened, span).isoformat()
    assert slow_working_time_between(ref, opened, due) == span
