"""The engine's time: included, prepaid and extra minutes, their prices, connections, the
durations staff type, the times a remote session can be booked for, and the report's counts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import catalog, catalog_text, money, row

from portal.plans import CatalogError, PlanError
from portal.plans.loading import parse_catalog
from portal.plans.reports import TargetFact, TicketFact, figures, median
from portal.plans.worktime import (
    MonthTime,
    PlanSpan,
    connection_limit,
    included_hours,
    month_allowance,
    parse_duration,
    price_extra,
    price_time,
    session_calendar,
    session_slots,
    split_time,
)

NOV, DEC, JAN = date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)

SPLITS = {
    "time within the included hours is included": row(
        [MonthTime(NOV, 180, 0, 120)], 0, [(120, 0, 0)], 0
    ),
    "beyond them it is extra when nothing is prepaid": row(
        [MonthTime(NOV, 180, 0, 240)], 0, [(180, 0, 60)], 0
    ),
    "prepaid hours come before extra time": row(
        [MonthTime(DEC, 180, 0, 360)], 300, [(180, 180, 0)], 120
    ),
    "what prepaid does not cover is extra": row(
        [MonthTime(DEC, 180, 0, 600)], 300, [(180, 300, 120)], 0
    ),
    "included hours already used by settled time are not used twice": row(
        [MonthTime(NOV, 180, 150, 60)], 0, [(30, 0, 30)], 0
    ),
    "each month has its own included hours, the older month first": row(
        [MonthTime(DEC, 180, 0, 240), MonthTime(NOV, 180, 180, 60)],
        60,
        [(0, 60, 0), (180, 0, 60)],
        0,
    ),
    "a plan without included hours makes all time extra": row(
        [MonthTime(NOV, 0, 0, 90)], 0, [(0, 0, 90)], 0
    ),
}


@pytest.mark.parametrize(("months", "prepaid", "expected", "left"), SPLITS.values(), ids=SPLITS)
def test_time_is_included_then_prepaid_then_extra(months, prepaid, expected, left):
    splits, balance = split_time(months, prepaid)
    assert [(s.included, s.prepaid, s.extra) for s in splits] == expected
    assert balance == left


ALLOWANCES = {
    "OPTIMA includes 3 hours a month": row([PlanSpan("optima", NOV, date(2027, 10, 31))], NOV, 180),
    "PREMIUM 6": row([PlanSpan("premium", NOV, date(2027, 10, 31))], NOV, 360),
    "PROF none": row([PlanSpan("prof", NOV, date(2027, 10, 31))], NOV, 0),
    "a period that starts mid-month gives the whole month's hours": row(
        [PlanSpan("optima", date(2026, 11, 20), date(2027, 11, 19))], NOV, 180
    ),
    "a month after the period ends has none": row(
        [PlanSpan("optima", NOV, date(2026, 11, 30))], DEC, 0
    ),
    "an upgrade within a month gives the more generous plan's": row(
        [
            PlanSpan("optima", NOV, date(2026, 11, 14)),
            PlanSpan("premium", date(2026, 11, 15), date(2027, 11, 14)),
        ],
        NOV,
        360,
    ),
}


@pytest.mark.parametrize(("spans", "month", "minutes"), ALLOWANCES.values(), ids=ALLOWANCES)
def test_a_months_included_minutes_come_from_the_plan_covering_it(spans, month, minutes):
    assert month_allowance(catalog("kbs"), spans, month) == minutes


EXTRA = {
    "7 extra hours are one 5-hour bundle and 2 single hours": row(7 * 60, "9900.00"),
    "4 extra hours are 4 single hours, cheaper than a bundle": row(4 * 60, "6000.00"),
    "an hour is 1 500": row(60, "1500.00"),
    "a minute over an hour is charged as KBS sells: whole hours": row(61, "3000.00"),
    "4 hours 40 minutes is a bundle, cheaper than 5 single hours": row(280, "6900.00"),
    "12 hours are two bundles and 2 hours": row(12 * 60, "16800.00"),
}


@pytest.mark.parametrize(("minutes", "total"), EXTRA.values(), ids=EXTRA)
def test_kbs_extra_time_is_priced_with_the_cheapest_mix(minutes, total):
    assert price_extra(catalog("kbs"), minutes).total == money(total)


def test_no_extra_time_or_a_catalog_without_it_prices_nothing():
    assert price_extra(catalog("kbs"), 0) is None
    assert price_extra(catalog("iiko"), 60) is None


SESSIONS = {
    "1.5 hours direct, first time: 1 950 and the 4 000 fee": row(
        "remote-direct", 90, True, "5950.00"
    ),
    "20 minutes direct, not the first: the minimum hour": row(
        "remote-direct", 20, False, "1300.00"
    ),
    "3 hours direct for a first-time client": row("remote-direct", 180, True, "7900.00"),
    "70 minutes by backup: to the hundredth of an hour, rounded up": row(
        "remote-backup", 70, False, "1521.00"
    ),
    "a backup never pays the connection fee": row("remote-backup", 60, True, "1300.00"),
}


@pytest.mark.parametrize(("service", "minutes", "first", "total"), SESSIONS.values(), ids=SESSIONS)
def test_kvartplata_sessions_are_priced_by_the_time_spent(service, minutes, first, total):
    assert price_time(catalog("kvartplata"), service, minutes, first_time=first).total == money(
        total
    )


LIMITS = {
    "PROF allows 2 connections a month": row("prof", True, 2),
    "OPTIMA counts them with no limit": row("optima", True, None),
    "PREMIUM too": row("premium", True, None),
    "no plan allows none free": row(None, True, 0),
}


@pytest.mark.parametrize(("plan", "counted", "limit"), LIMITS.values(), ids=LIMITS)
def test_connections_are_counted_and_limited_by_plan(plan, counted, limit):
    found = connection_limit(catalog("kbs"), plan)
    assert (found.counted, found.limit) == (counted, limit)


def test_the_third_prof_connection_is_paid_and_an_unlimited_plan_never_is():
    prof = connection_limit(catalog("kbs"), "prof")
    assert [prof.is_paid(used) for used in (0, 1, 2, 3)] == [False, False, True, True]
    assert not connection_limit(catalog("kbs"), "optima").is_paid(100)
    assert not connection_limit(catalog("iiko"), "contract").counted


def test_included_hours_read_the_plans_feature():
    assert [included_hours(catalog("kbs"), p) for p in ("prof", "optima", "premium")] == [0, 3, 6]


DURATIONS = {
    "hours with a point": row("1.5", 90),
    "hours with a comma": row("1,5", 90),
    "hours and minutes with a colon": row("1:30", 90),
    "minutes": row("90m", 90),
    "hours and minutes in words": row("1h 30m", 90),
    "in Russian": row("1 ч 30 мин", 90),
    "in Ukrainian": row("2 год", 120),
    "Persian digits": row("۱٫۵", 90),
    "a fraction of a minute is rounded up": row("0.01", 1),
}


@pytest.mark.parametrize(("typed", "minutes"), DURATIONS.values(), ids=DURATIONS)
def test_staff_type_durations_as_they_write_them(typed, minutes):
    assert parse_duration(typed) == minutes


REFUSED = {
    "nothing": row("", "missing_parameter"),
    "words": row("soon", "invalid_duration"),
    "zero": row("0", "invalid_minutes"),
    "more than a day": row("25", "invalid_minutes"),
    "minutes past 59 after a colon": row("1:75", "invalid_duration"),
    "a negative number": row("-1", "invalid_duration"),
}


@pytest.mark.parametrize(("typed", "code"), REFUSED.values(), ids=REFUSED)
def test_a_duration_that_is_none_is_refused_with_its_reason(typed, code):
    with pytest.raises(PlanError) as refused:
        parse_duration(typed)
    assert refused.value.code == code


def moscow(text: str) -> datetime:
    return datetime.fromisoformat(text + "+03:00")


SLOTS = {
    "at 10:20 on a Monday the next working hour is 11:00": row(
        "2026-12-07T10:20", "2026-12-07T11:00"
    ),
    "before opening, the opening hour": row("2026-12-07T07:30", "2026-12-07T09:00"),
    "on the hour, the next one: never instant": row("2026-12-07T11:00", "2026-12-07T12:00"),
    "after closing on Friday, Monday morning": row("2026-12-11T18:30", "2026-12-14T09:00"),
    "on New Year's holidays, the first working day after them": row(
        "2026-12-31T12:00", "2027-01-11T09:00"
    ),
}


@pytest.mark.parametrize(("now", "first"), SLOTS.values(), ids=SLOTS)
def test_a_direct_session_is_booked_from_the_next_working_hour(now, first):
    calendar = session_calendar(catalog("kvartplata"))
    slots = session_slots(calendar, moscow(now))
    assert slots[0] == moscow(first)


def test_taken_times_are_not_offered_and_the_shortened_day_ends_an_hour_early():
    calendar = session_calendar(catalog("kvartplata"))
    taken = [moscow("2026-12-07T11:00")]
    slots = session_slots(calendar, moscow("2026-12-07T10:20"), taken)
    assert moscow("2026-12-07T11:00") not in slots and moscow("2026-12-07T12:00") in slots
    # Friday 11 June 2027, the day before Russia Day: 09:00-17:00, the last session at 16:00.
    slots = session_slots(calendar, moscow("2027-06-07T10:00"))
    last_of_day = [s for s in slots if s.date() == date(2027, 6, 11)][-1]
    assert last_of_day == moscow("2027-06-11T16:00")


def test_a_work_section_naming_what_does_not_exist_is_refused_where_it_is_wrong():
    broken = catalog_text("kbs").replace('included = "specialist-hours"', 'included = "lunch"')
    with pytest.raises(CatalogError) as refused:
        parse_catalog(broken)
    assert "work.included" in str(refused.value) and "unknown feature 'lunch'" in str(refused.value)
    broken = catalog_text("kbs").replace('extra = "hours"', 'extra = "remote-direct"')
    with pytest.raises(CatalogError, match=r"work\.extra"):
        parse_catalog(broken)


AT = datetime(2026, 12, 1, tzinfo=UTC)
OPENED = datetime(2026, 11, 10, 9, tzinfo=UTC)


def ticket(category, targets, first_response_after=None):
    return TicketFact(
        category,
        OPENED,
        OPENED + first_response_after if first_response_after is not None else None,
        tuple(targets),
    )


def target(code, due_hours, met_hours=None, breached=False):
    return TargetFact(
        code,
        OPENED + timedelta(hours=due_hours),
        OPENED + timedelta(hours=met_hours) if met_hours is not None else None,
        OPENED + timedelta(hours=due_hours) if breached else None,
    )


def test_the_reports_figures_against_a_hand_made_month():
    month = [
        ticket("support", [target("reaction", 9, met_hours=2)], timedelta(hours=2)),
        ticket("support", [target("reaction", 9, met_hours=12)], timedelta(hours=12)),
        ticket("support", [target("reaction", 9, breached=True)], None),
        ticket("defect", [target("reaction", 9, met_hours=1)], timedelta(hours=1)),
        ticket("development", [], timedelta(minutes=30)),
    ]
    found = figures(month, AT)
    assert found.tickets == 5
    assert found.by_category == (("support", 3), ("defect", 1), ("development", 1))
    (reaction,) = found.by_target
    assert (reaction.met, reaction.breached, reaction.running) == (2, 2, 0)
    assert found.median_first_response == timedelta(hours=1, minutes=30)
    assert found.answered == 4


def test_a_target_not_due_yet_is_running_and_one_past_due_is_breached():
    late = TargetFact("reaction", AT + timedelta(hours=1), None, None)
    gone = TargetFact("reaction", AT - timedelta(hours=1), None, None)
    found = figures([TicketFact("support", OPENED, None, (late, gone))], AT)
    (reaction,) = found.by_target
    assert (reaction.met, reaction.breached, reaction.running) == (0, 1, 1)
    assert found.median_first_response is None


def test_median_of_an_even_count_is_the_middle_pair_average():
    assert median([timedelta(minutes=m) for m in (10, 20, 30, 40)]) == timedelta(minutes=25)
    assert median([]) is None
