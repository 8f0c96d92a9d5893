"""SLA clocks: when a target falls due, on the 24/7 clock or in a calendar's working time.

Working time is wall-clock time inside a working day's intervals (09:00-13:00 and
14:00-18:00 around a lunch break) in the calendar's time zone. Days off are the
weekdays outside the calendar and the public holidays of its country (dates
only, from the ``holidays`` package); a weekend day that country decreed a
working day is a working day. Weekdays may have hours of their own, dated
exceptions override everything (a closure, an extra day, other hours), and the
day before a public holiday may be shortened (Russia, Kazakhstan: one hour).
Whole days are skipped at once through a per-year running total of working
time, so a 30-working-day target costs about as much as a 1-hour one.
"""

from __future__ import annotations

import bisect
import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays as holidays_data

from portal.plans.catalog import Calendar, Catalog, Intervals, PlanSla, interval_length
from portal.plans.errors import PlanError
from portal.plans.requests import plan_of

# How far a search for the next working day may look before the calendar is called broken.
_YEARS_AHEAD = 5
# Working time is counted in microseconds: an opened time keeps its own.
_TICK = timedelta(microseconds=1)


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
    promise, calendar, zone = _promise(catalog, plan_code, target_code, opened)
    day = calendar.working_day if calendar else None
    due = _advance(calendar, opened, promise.upper.timedelta(day), zone)
    expected = (
        _advance(calendar, opened, promise.lower.timedelta(day), zone) if promise.lower else None
    )
    return SlaDue(
        plan=plan_code,
        target=target_code,
        clock=promise.clock,
        opened=opened,
        due=due,
        expected=expected,
        calendar=calendar,
    )


def claimable_targets(catalog: Catalog, plan_code: str) -> tuple[str, ...]:
    """The targets a client may claim for a ticket of ``plan_code``, in the catalog's
    order (iiko: blocking, critical, important, minor error)."""
    plan = plan_of(catalog, plan_code)
    return tuple(code for code in plan.sla if catalog.sla_targets[code].applies == "claimed")


def ticket_targets(catalog: Catalog, plan_code: str, claimed: str | None) -> tuple[str, ...]:
    """The targets a new ticket of ``plan_code`` runs: those of every ticket (KBS's
    reaction), then the one the client ``claimed``, if any. A confirmed defect's target
    (Crystals' fix date) starts later, when staff confirm it."""
    plan = plan_of(catalog, plan_code)
    codes = [code for code in plan.sla if catalog.sla_targets[code].applies == "every-ticket"]
    if claimed is not None:
        allowed = claimable_targets(catalog, plan_code)
        if claimed not in allowed:
            raise PlanError(
                "target_not_claimable",
                "'{value}' is not a target a ticket of this plan can claim (targets: {known})",
                "target",
                value=claimed,
                known=", ".join(allowed) or "—",
            )
        codes.append(claimed)
    return tuple(codes)


def _promise(
    catalog: Catalog, plan_code: str, target_code: str, opened: datetime
) -> tuple[PlanSla, Calendar | None, zoneinfo.ZoneInfo]:
    """The plan's promise for the target, the calendar it counts on (None round the clock)
    and the zone its times are told in; a PlanError for an unknown plan or target, or a
    time without its UTC offset."""
    plan = plan_of(catalog, plan_code)
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
    return promise, calendar, zoneinfo.ZoneInfo(calendar.timezone if calendar else catalog.timezone)


@dataclass(frozen=True)
class Pause:
    """A time a ticket waited for its client: its clocks stood still. ``end`` is None while
    it still waits."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Clock:
    """A target's clock on a ticket at ``now``.

    ``state`` is ``running``, ``paused`` (waiting for the client since
    ``paused_since``), ``met`` (at ``met_at``, in time) or ``breached`` (past ``due``
    unmet, or met late). ``due`` moves by the time paused; while paused it is the due
    time were the ticket answered now. ``used`` is the time counted so far (until
    met, paused or now), of ``span``, the target's time.
    """

    target: str
    clock: str
    state: str
    due: datetime
    span: timedelta
    used: timedelta
    met_at: datetime | None = None
    paused_since: datetime | None = None
    # When ``warn_share`` of the span is used (the assignee's warning), as ``due`` moves.
    warn_at: datetime | None = None

    @property
    def used_share(self) -> float:
        """How much of the target's time is used, from 0 (capped at 1 for the bar)."""
        return min(1.0, self.used / self.span)


def ticket_clock(
    catalog: Catalog,
    plan_code: str,
    target_code: str,
    opened: datetime,
    pauses: Iterable[Pause],
    met_at: datetime | None,
    now: datetime,
    warn_share: float = 0.8,
) -> Clock:
    """The clock of ``target_code`` for a ticket of ``plan_code`` opened at ``opened``, with
    its ``pauses`` (in any order; an open one last), met at ``met_at`` or not yet, at ``now``.

    Every clock pauses while the ticket waits, 24/7 ones too; the due time moves by the
    time paused, counted as the clock counts (working time on a calendar). A pause after
    the target was met, or after it fell due, holds nothing back. ``warn_at`` is when
    ``warn_share`` of the span is used, moved by the pauses before it alike.
    """
    promise, calendar, zone = _promise(catalog, plan_code, target_code, opened)
    span = promise.upper.timedelta(calendar.working_day if calendar else None)
    until = met_at or now
    held, waiting = [], None
    for pause in sorted(pauses, key=_start):
        if pause.start >= until:
            continue
        if pause.end is None or pause.end > until:
            waiting = pause.start  # the clock stands still from here to ``until``
            held.append(Pause(max(pause.start, opened), until))
            continue
        if pause.end > opened:
            held.append(pause if pause.start >= opened else Pause(opened, pause.end))
    # The past pauses (all but one still open) are counted once and kept: the sweep looks
    # at the same tickets again and again. The open one ends "now", new at every look.
    done = tuple(held[:-1] if waiting is not None and met_at is None else held)
    marks = [*_pause_marks(calendar, opened, done)]
    marks += [_mark(calendar, opened, pause) for pause in held[len(done) :]]
    warn_span = span * warn_share
    extra = warn_extra = timedelta(0)
    for reached, length in marks:
        if reached - extra >= span:
            break  # the target fell due before this pause: it held nothing back
        if reached - extra < warn_span:
            warn_extra += length
        extra += length
    due = _advance(calendar, opened, span + extra, zone)
    warn_at = _advance(calendar, opened, warn_span + warn_extra, zone) if warn_span else due
    if min(until, due) == due:
        used = span
    else:
        used = max(timedelta(0), _raw_length(calendar, opened, until) - extra)
    if met_at is not None:
        state = "met" if met_at <= due else "breached"
    elif waiting is not None and now < due:
        state = "paused"
    else:
        state = "breached" if now >= due else "running"
    return Clock(
        target=target_code,
        clock=promise.clock,
        state=state,
        due=due,
        span=span,
        used=used,
        met_at=met_at,
        paused_since=waiting if state == "paused" else None,
        warn_at=warn_at,
    )


def _start(pause: Pause) -> datetime:
    return pause.start


@functools.lru_cache(maxsize=4096)
def _pause_marks(
    calendar: Calendar | None, opened: datetime, pauses: tuple[Pause, ...]
) -> tuple[tuple[timedelta, timedelta], ...]:
    """For each of a ticket's past pauses (in order): the clock's time from ``opened`` to
    its start, the earlier pauses included, and its own length."""
    return tuple(_mark(calendar, opened, pause) for pause in pauses)


def _mark(calendar: Calendar | None, opened: datetime, pause: Pause) -> tuple[timedelta, timedelta]:
    return (
        _raw_length(calendar, opened, pause.start),
        _raw_length(calendar, pause.start, pause.end),
    )


def _advance(
    calendar: Calendar | None, opened: datetime, span: timedelta, zone: zoneinfo.ZoneInfo
) -> datetime:
    """``opened`` plus ``span`` of the clock's time, told in ``zone``: working time on
    ``calendar``, else elapsed (added in UTC: adding to a zoned time adds wall-clock time)."""
    try:
        if calendar is None:
            return (opened.astimezone(UTC) + span).astimezone(zone)
        return add_working_time(calendar, opened, span)
    except (ValueError, OverflowError):
        # The deadline falls outside the years a datetime can hold (opened near 9999).
        raise PlanError(
            "invalid_datetime",
            "'{value}' is too far from today for a deadline",
            "opened",
            value=opened.isoformat(),
        ) from None


def _raw_length(calendar: Calendar | None, start: datetime, end: datetime) -> timedelta:
    """The clock's time from ``start`` to ``end``: elapsed, or working time on ``calendar``."""
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    return working_time_between(calendar, start, end)


def working_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time on ``calendar`` from ``start`` to ``end`` (aware; 0 if not after)."""
    if end <= start:
        return timedelta(0)
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    first = start.astimezone(zone).replace(tzinfo=None)
    last = end.astimezone(zone).replace(tzinfo=None)
    ticks = _position(calendar, last) - _position(calendar, first)
    for year in range(first.year, last.year):
        ticks += _year_index(calendar, year).total
    return ticks * _TICK


def _position(calendar: Calendar, local: datetime) -> int:
    """Working ticks of ``local``'s year before the wall-clock moment ``local``."""
    index = _year_index(calendar, local.year)
    day = local.date()
    position = bisect.bisect_left(index.ordinals, day.toordinal())
    ticks = index.totals[position - 1] if position else 0
    for opens, closes in day_hours(calendar, day):
        start, end = datetime.combine(day, opens), datetime.combine(day, closes)
        if local > start:
            ticks += (min(local, end) - start) // _TICK
    return ticks


def callback_due(catalog: Catalog, requested: datetime) -> datetime | None:
    """When a manager promises to call back a request made at ``requested`` (aware).

    None when the catalog makes no promise.
    """
    promise = catalog.callback
    if promise is None:
        return None
    calendar = catalog.calendars[promise.calendar] if promise.within.working else None
    zone = zoneinfo.ZoneInfo(calendar.timezone if calendar else catalog.timezone)
    span = promise.within.timedelta(calendar.working_day if calendar else None)
    return _advance(calendar, requested, span, zone)


def add_working_time(calendar: Calendar, opened: datetime, span: timedelta) -> datetime:
    """``opened`` plus ``span`` of working time on ``calendar``, aware, in its time zone.

    Time outside working hours does not count: work opened at night starts at
    the next opening, work opened at lunch after the break. A span that ends
    exactly at a closing time ends there, not at the next opening. Seconds are
    kept. Whole days are skipped through the year's running total of working
    time, so a 30-working-day target costs about as much as a 1-hour one.
    """
    if span <= timedelta(0):
        raise ValueError("a working-time span must be positive")
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    local = opened.astimezone(zone).replace(tzinfo=None)
    day = local.date()
    left = span
    for opens, closes in day_hours(calendar, day):
        start, end = max(datetime.combine(day, opens), local), datetime.combine(day, closes)
        if start >= end:
            continue
        if left <= end - start:
            return localize(start + left, zone)
        left -= end - start
    # The rest from the next day on: find the day whose running total reaches it.
    # A year past 9999 raises ValueError, which the callers turn into "too far".
    wanted = left // _TICK
    year, ordinal, idle_years = day.year, day.toordinal() + 1, 0
    while idle_years <= _YEARS_AHEAD:
        index = _year_index(calendar, year)
        position = bisect.bisect_left(index.ordinals, ordinal)
        before = index.totals[position - 1] if position else 0
        if before + wanted <= index.total:
            found = bisect.bisect_left(index.totals, before + wanted)
            into = before + wanted - (index.totals[found - 1] if found else 0)
            return localize(_into_day(calendar, index.ordinals[found], into), zone)
        wanted -= index.total - before
        idle_years = idle_years + 1 if index.total == before else 0
        year, ordinal = year + 1, date(year + 1, 1, 1).toordinal()
    raise PlanError(
        "calendar_without_working_days",
        "Calendar '{calendar}' has no working days ahead",
        None,
        calendar=calendar.code,
    )


def _into_day(calendar: Calendar, ordinal: int, into: int) -> datetime:
    """The moment ``into`` ticks of working time into a day (0 < into <= its total): at an
    interval's closing time when it uses that interval up."""
    day = date.fromordinal(ordinal)
    for opens, closes in day_hours(calendar, day):
        start, end = datetime.combine(day, opens), datetime.combine(day, closes)
        length = (end - start) // _TICK
        if into <= length:
            return start + into * _TICK
        into -= length
    raise AssertionError("a day's running total counts its own intervals")  # pragma: no cover


def localize(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """A wall-clock time of ``zone`` as a real moment there. A time the clocks skip (a
    spring-forward gap) comes out as the moment it would be, with the offset the zone has
    then (02:30 in a gap from 02:00 to 03:00 is 03:30), never with an offset that does not
    exist at that moment."""
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def day_hours(calendar: Calendar, day: date) -> Intervals:
    """The working intervals of ``day`` on ``calendar``: its dated exception, else nothing on
    a day off, else the weekday's hours (a decreed working weekend day: the regular ones),
    shortened on the day before a public holiday."""
    exception = calendar.exception_on(day)
    if exception is not None:
        return exception
    days_off, decreed = _public_days(
        calendar.holidays_country, calendar.holidays_subdivision, day.year
    )
    ordinal = day.toordinal()
    if ordinal in decreed:
        hours = calendar.hours
    elif day.weekday() in calendar.days and ordinal not in days_off:
        hours = calendar.hours_on_weekday(day.weekday())
    else:
        return ()
    if calendar.shortened_before_holidays and _is_public_holiday(calendar, day + timedelta(1)):
        hours = _shortened(hours, calendar.shortened_before_holidays)
    return hours


def _is_public_holiday(calendar: Calendar, day: date) -> bool:
    """A public holiday itself, the day the shortening rule looks at: not a day off moved
    to another date for it (observed) nor one a decree swapped with a weekend day."""
    holidays_of_year = _holidays(calendar.holidays_country, calendar.holidays_subdivision, day.year)
    return day.toordinal() in holidays_of_year


@functools.lru_cache(maxsize=256)
def _holidays(country: str | None, subdivision: str | None, year: int) -> frozenset[int]:
    if country is None:
        return frozenset()
    # In the country's own language, the one its label of a swapped day off is written in.
    language = holidays_data.country_holidays(country).default_language
    data = holidays_data.country_holidays(
        country, subdiv=subdivision, years=year, observed=False, language=language
    )
    label = getattr(data, "substituted_label", None)
    swapped = label.split("%s")[0] if label else None
    return frozenset(
        day.toordinal()
        for day, names in data.items()
        if not swapped or not all(name.startswith(swapped) for name in names.split("; "))
    )


def _shortened(hours: Intervals, by: timedelta) -> Intervals:
    """``hours`` less ``by`` at the end of the day: the last interval closes earlier (and
    goes, with the time left taken from the one before, when it is shorter)."""
    kept = list(hours)
    while kept and by > timedelta(0):
        opens, closes = kept.pop()
        length = interval_length(((opens, closes),))
        if length > by:
            kept.append((opens, (datetime.combine(date.min, closes) - by).time()))
        by -= min(by, length)
    return tuple(kept)


def is_working_day(calendar: Calendar, day: date) -> bool:
    return bool(day_hours(calendar, day))


def nth_working_day(calendar: Calendar, day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (n >= 1), jumping whole years of the index."""
    year = day.year
    ordinals = _year_index(calendar, year).ordinals
    index = bisect.bisect_right(ordinals, day.toordinal()) + n - 1
    for _ in range(n // 200 + _YEARS_AHEAD):
        if index < len(ordinals):
            return date.fromordinal(ordinals[index])
        index -= len(ordinals)
        year += 1
        ordinals = _year_index(calendar, year).ordinals
    raise PlanError(
        "calendar_without_working_days",
        "Calendar '{calendar}' has no working days ahead",
        None,
        calendar=calendar.code,
    )


@dataclass(frozen=True)
class _YearIndex:
    """A year's working days (ordinals, in order) and the running total of working time,
    in ticks, through each of them: ``totals[i]`` counts days ``0..i``."""

    ordinals: tuple[int, ...]
    totals: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.totals[-1] if self.totals else 0


@functools.lru_cache(maxsize=512)
def _year_index(calendar: Calendar, year: int) -> _YearIndex:
    ordinals, totals, running = [], [], 0
    for ordinal in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
        length = interval_length(day_hours(calendar, date.fromordinal(ordinal))) // _TICK
        if length:
            running += length
            ordinals.append(ordinal)
            totals.append(running)
    return _YearIndex(tuple(ordinals), tuple(totals))


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
