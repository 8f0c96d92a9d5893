"""SLA clocks: when a target falls due, on the 24/7 clock or in a calendar's working time.

Working time is wall-clock time between opening and closing on working days in
the calendar's time zone. Days off are the weekdays outside the calendar and
the public holidays of its country (dates only, from the ``holidays`` package);
a weekend day that country decreed a working day is a working day. Whole
working days are skipped at once through a per-year index of working days, so
a 30-working-day target costs about as much as a 1-hour one.
"""

from __future__ import annotations

import bisect
import functools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays as holidays_data

from portal.plans.catalog import Calendar, Catalog, Duration
from portal.plans.errors import PlanError

# How far a search for the next working day may look before the calendar is called broken.
_YEARS_AHEAD = 5


@dataclass(frozen=True)
class SlaDue:
    """The answer of the clock: ``due`` promised, ``expected`` for a range's lower bound."""

    plan: str
    target: str
    clock: str
    opened: datetime
    due: datetime
    expected: datetime | None
    calendar: Calendar | None


def due_at(catalog: Catalog, plan_code: str, target_code: str, opened: datetime) -> SlaDue:
    """When ``target_code`` of ``plan_code`` falls due for a request opened at ``opened``.

    ``opened`` must be timezone-aware. Times come back in the catalog's time zone
    (the calendar's for working-time targets).
    """
    plan = catalog.plans.get(plan_code)
    if plan is None:
        raise PlanError(
            "unknown_plan",
            "Unknown plan '{value}' (plans: {known})",
            "plan",
            value=plan_code,
            known=", ".join(catalog.plans),
        )
    promise = plan.sla.get(target_code)
    if promise is None:
        raise PlanError(
            "unknown_target",
            "This plan has no SLA target '{value}' (targets: {known})",
            "target",
            value=target_code,
            known=", ".join(plan.sla) or "—",
        )
    if opened.tzinfo is None or opened.utcoffset() is None:
        raise PlanError("invalid_datetime", "The opened time needs a UTC offset", "opened")
    calendar = catalog.calendar_of(plan) if promise.upper.working else None
    zone = zoneinfo.ZoneInfo(calendar.timezone if calendar else catalog.timezone)

    def deadline(duration: Duration) -> datetime:
        if calendar is None:
            # Elapsed time: add in UTC, since adding to a zoned time adds wall-clock time.
            return (opened.astimezone(UTC) + duration.timedelta()).astimezone(zone)
        return add_working_time(calendar, opened, duration.timedelta(calendar.working_day))

    try:
        due = deadline(promise.upper)
        expected = deadline(promise.lower) if promise.lower else None
    except (ValueError, OverflowError):
        # The deadline falls outside the years a datetime can hold (opened near 9999).
        raise PlanError(
            "invalid_datetime",
            "'{value}' is too far from today for a deadline",
            "opened",
            value=opened.isoformat(),
        ) from None
    return SlaDue(
        plan=plan.code,
        target=target_code,
        clock=promise.clock,
        opened=opened,
        due=due,
        expected=expected,
        calendar=calendar,
    )


def callback_due(catalog: Catalog, requested: datetime) -> datetime | None:
    """When a manager promises to call back a request made at ``requested`` (aware).

    None when the catalog makes no promise.
    """
    promise = catalog.callback
    if promise is None:
        return None
    if promise.within.working:
        calendar = catalog.calendars[promise.calendar]
        return add_working_time(calendar, requested, promise.within.timedelta(calendar.working_day))
    zone = zoneinfo.ZoneInfo(catalog.timezone)
    return (requested.astimezone(UTC) + promise.within.timedelta()).astimezone(zone)


def add_working_time(calendar: Calendar, opened: datetime, span: timedelta) -> datetime:
    """``opened`` plus ``span`` of working time on ``calendar``, aware, in its time zone.

    Time outside working hours does not count: work opened at night starts at
    the next opening. A span that ends exactly at a closing time ends there,
    not at the next opening. Seconds are kept.
    """
    if span <= timedelta(0):
        raise ValueError("a working-time span must be positive")
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    local = opened.astimezone(zone).replace(tzinfo=None)
    day = local.date()
    opens = datetime.combine(day, calendar.opens)
    closes = datetime.combine(day, calendar.closes)
    if is_working_day(calendar, day) and local < closes:
        start = max(local, opens)
    else:
        day = nth_working_day(calendar, day, 1)
        start = datetime.combine(day, calendar.opens)
    left_today = datetime.combine(day, calendar.closes) - start
    if span <= left_today:
        return _localize(start + span, zone)
    whole_days, rest = divmod(span - left_today, calendar.working_day)
    if not rest:
        # The span uses up its last day exactly: it ends at that day's closing time.
        whole_days, rest = whole_days - 1, calendar.working_day
    day = nth_working_day(calendar, day, whole_days + 1)
    return _localize(datetime.combine(day, calendar.opens) + rest, zone)


def _localize(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone)


def is_working_day(calendar: Calendar, day: date) -> bool:
    return day.toordinal() in _working_days(calendar, day.year)[1]


def nth_working_day(calendar: Calendar, day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (n >= 1), jumping whole years of the index."""
    year = day.year
    ordinals, _ = _working_days(calendar, year)
    index = bisect.bisect_right(ordinals, day.toordinal()) + n - 1
    for _ in range(n // 200 + _YEARS_AHEAD):
        if index < len(ordinals):
            return date.fromordinal(ordinals[index])
        index -= len(ordinals)
        year += 1
        ordinals, _ = _working_days(calendar, year)
    raise PlanError(
        "calendar_without_working_days",
        "Calendar '{calendar}' has no working days ahead",
        None,
        calendar=calendar.code,
    )


@functools.lru_cache(maxsize=512)
def _working_days(calendar: Calendar, year: int) -> tuple[tuple[int, ...], frozenset[int]]:
    """The working days of ``year`` as sorted ordinals and as a set."""
    days_off, decreed = _public_days(calendar.holidays_country, calendar.holidays_subdivision, year)
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    ordinals = tuple(
        o
        for o in range(first, last + 1)
        if (date.fromordinal(o).weekday() in calendar.days and o not in days_off) or o in decreed
    )
    return ordinals, frozenset(ordinals)


@functools.lru_cache(maxsize=256)
def _public_days(country: str | None, subdivision: str | None, year: int):
    """Holiday ordinals and decreed working weekend-day ordinals of ``country`` in ``year``."""
    if country is None:
        return frozenset(), frozenset()
    data = holidays_data.country_holidays(country, subdiv=subdivision, years=year)
    days_off = frozenset(d.toordinal() for d in data)
    decreed = frozenset(
        d.toordinal() for d in getattr(data, "weekend_workdays", ()) if d.year == year
    )
    return days_off, decreed
