"""On-site visits: blocks on technicians' calendars, the yearly quota, prices, dispatch order.

A visit is booked as one block of the catalog's ``visit_blocks`` (Iotex: 4 or 8
hours). Blocks start where a technician's working interval opens and follow one
another (09-13, 13-17), so a day is planned in halves rather than cut into odd
pieces. A block is free when it overlaps none of the technician's booked blocks
and time off, half-open (a block ending at 12:00 and one starting at 12:00 do not
overlap). A client picks a time, not a technician: the week's slots are the free
blocks of every technician, merged by time.

Free on-site hours and periodic visits are counted per contract year: years
counted from the start of the subscription period, whatever its term. Free hours
are for clients in the catalog's service area; beyond them, on a plan without
them, or out of town, the uncovered hours are priced by the catalog's on-site
service (its bundles price whole blocks), before the visit is booked.

Pure: takes the catalog, calendars, times and counts as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from portal.plans.catalog import Calendar, Catalog, Intervals, parse_intervals
from portal.plans.errors import PlanError
from portal.plans.pricing import Quote, quote
from portal.plans.requests import ServiceQuoteRequest
from portal.plans.sla import day_hours, localize
from portal.plans.terms import add_months
from portal.plans.worktime import price_time

WEEK = 7
NEAREST = 3
AREA = "area"
OUT_OF_TOWN = "out-of-town"
REGIONS = (AREA, OUT_OF_TOWN)

Span = tuple[datetime, datetime]


# --- blocks and slots ------------------------------------------------------------------------


def overlaps(a: Span, b: Span) -> bool:
    """Whether two half-open spans ``[start, end)`` share a moment."""
    return a[0] < b[1] and b[0] < a[1]


def day_blocks(calendar: Calendar, day: date, hours: int) -> tuple[Span, ...]:
    """The blocks of ``hours`` on ``day`` in the calendar's zone: from each working
    interval's opening, one after another, as many as fit. A block is measured on the
    wall clock, so one that crosses a daylight-saving change still ends at its hour."""
    zone = ZoneInfo(calendar.timezone)
    blocks = []
    for opens, closes in day_hours(calendar, day):
        start = datetime.combine(day, opens)
        close = datetime.combine(day, closes) if closes != time(0) else _midnight_after(day)
        while start + timedelta(hours=hours) <= close:
            end = start + timedelta(hours=hours)
            blocks.append((localize(start, zone), localize(end, zone)))
            start = end
    return tuple(blocks)


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0))


def free_blocks(
    calendar: Calendar,
    busy: Iterable[Span],
    first_day: date,
    hours: int,
    earliest: datetime,
    days: int = WEEK,
) -> tuple[Span, ...]:
    """The blocks of ``hours`` on the ``days`` days from ``first_day`` (in the calendar's
    zone) that start no earlier than ``earliest`` and overlap nothing ``busy``."""
    taken = sorted(busy)
    free = []
    for offset in range(days):
        for block in day_blocks(calendar, first_day + timedelta(days=offset), hours):
            if block[0] >= earliest and not any(overlaps(block, span) for span in taken):
                free.append(block)
    return tuple(free)


@dataclass(frozen=True)
class Slot:
    """A time a visit can be booked for, and the technicians free then (in their order)."""

    start: datetime
    end: datetime
    technicians: tuple[int, ...]


@dataclass(frozen=True)
class TechnicianTime:
    """One technician's working calendar and what already fills it (bookings, time off)."""

    id: int
    calendar: Calendar
    busy: tuple[Span, ...] = ()


def week_slots(
    technicians: Sequence[TechnicianTime],
    first_day: date,
    hours: int,
    earliest: datetime,
    days: int = WEEK,
) -> tuple[Slot, ...]:
    """Every free block of ``hours`` over ``days`` days, merged across technicians by
    time, earliest first."""
    by_time: dict[Span, list[int]] = {}
    for technician in technicians:
        for block in free_blocks(
            technician.calendar, technician.busy, first_day, hours, earliest, days
        ):
            by_time.setdefault(block, []).append(technician.id)
    return tuple(Slot(start, end, tuple(ids)) for (start, end), ids in sorted(by_time.items()))


def nearest_slots(
    slots: Sequence[Slot], wanted: datetime, count: int = NEAREST
) -> tuple[Slot, ...]:
    """The ``count`` slots nearest ``wanted`` (the later one first on a tie), by time."""
    chosen = sorted(slots, key=lambda slot: (abs(slot.start - wanted), -slot.start.timestamp()))
    return tuple(sorted(chosen[:count], key=lambda slot: slot.start))


def earliest_start(now: datetime, notice_hours: int) -> datetime:
    """The earliest a visit booked ``now`` can start."""
    return now + timedelta(hours=notice_hours)


def week_start(day: date, first_weekday: int) -> date:
    """The first day of ``day``'s week, weeks starting on ``first_weekday`` (0 = Monday;
    Persian calendars start on Saturday, 5)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % WEEK)


def technician_calendar(
    base: Calendar,
    *,
    timezone: str | None = None,
    days: Iterable[int] | None = None,
    hours: Intervals | None = None,
    holidays: str | None = None,
    exceptions: Iterable[tuple[date, Intervals]] = (),
) -> Calendar:
    """A technician's working calendar: the catalog's ``base`` with their own zone, days,
    hours, country of public holidays and dated exceptions (a Saturday worked, a day
    off) where they have them."""
    changes = {"code": f"{base.code}+technician"}
    if timezone:
        changes["timezone"] = timezone
    if days is not None:
        changes["days"] = frozenset(days)
    if hours is not None:
        changes["hours"] = hours
        changes["weekday_hours"] = ()
    if holidays:
        changes["holidays_country"] = holidays
        changes["holidays_subdivision"] = None
    extra = tuple(exceptions)
    if extra:
        own = dict(base.exceptions)
        own.update(extra)
        changes["exceptions"] = tuple(sorted(own.items()))
    return replace(base, **changes)


def parse_hours(value: str, field_name: str = "hours") -> Intervals:
    """A technician's working hours as staff type them: ``08:00-16:00`` or
    ``09:00 - 13:00, 14:00-18:00``, in order, none overlapping (as a catalog calendar's)."""
    try:
        return parse_intervals(re.sub(r"\s*-\s*", "-", value or ""))
    except ValueError:
        raise PlanError(
            "invalid_hours", "Give hours such as 09:00-13:00, 14:00-18:00", field_name
        ) from None


def visit_calendar(catalog: Catalog) -> Calendar | None:
    """The calendar technicians work by default, or None when the catalog books no visits."""
    code = catalog.visits.calendar
    return catalog.calendars.get(code) if code else None


def bookable(catalog: Catalog) -> bool:
    """Whether clients of ``catalog`` book visits themselves (it offers blocks)."""
    return bool(catalog.visit_blocks) and visit_calendar(catalog) is not None


def check_block(catalog: Catalog, hours: int, field_name: str = "hours") -> int:
    if hours not in catalog.visit_blocks:
        raise PlanError(
            "invalid_block",
            "Visits are booked in blocks of {blocks} hours",
            field_name,
            blocks=" / ".join(str(b) for b in catalog.visit_blocks),
        )
    return hours


def check_region(region: str, field_name: str = "region") -> str:
    if region not in REGIONS:
        raise PlanError("invalid_region", "Choose where the visit is", field_name)
    return region


# --- contract years and the quota ------------------------------------------------------------


def contract_year(period_start: date, period_end: date, day: date) -> tuple[date, date] | None:
    """The contract year of a period (``period_start`` to ``period_end`` inclusive) that
    ``day`` falls in: years counted from the start, the last one cut at the period's end.
    None when ``day`` is outside the period."""
    if not period_start <= day <= period_end:
        return None
    years = 0
    while add_months(period_start, 12 * (years + 1)) <= day:
        years += 1
    start = add_months(period_start, 12 * years)
    end = min(add_months(period_start, 12 * (years + 1)) - timedelta(days=1), period_end)
    return start, end


def _yearly(catalog: Catalog, plan_code: str | None, feature: str | None) -> int:
    if plan_code is None or feature is None or plan_code not in catalog.plans:
        return 0
    value = catalog.plans[plan_code].features.get(feature)
    if value is None or value.unlimited or value.quantity is None:
        return 0
    return int(value.quantity)


def free_hours(catalog: Catalog, plan_code: str | None) -> int:
    """The free on-site hours ``plan_code`` includes each contract year (Iotex premium 12)."""
    return _yearly(catalog, plan_code, catalog.visits.free_hours)


def periodic_visits(catalog: Catalog, plan_code: str | None) -> int:
    """The periodic visits ``plan_code`` includes each contract year (Iotex premium 2)."""
    return _yearly(catalog, plan_code, catalog.visits.periodic)


@dataclass(frozen=True)
class Quota:
    """A contract year's free on-site hours and periodic visits: included, used, left."""

    year: tuple[date, date] | None
    hours: int
    hours_used: Decimal
    periodic: int
    periodic_used: int

    @property
    def hours_left(self) -> Decimal:
        return max(Decimal(self.hours) - self.hours_used, Decimal(0))

    @property
    def periodic_left(self) -> int:
        return max(self.periodic - self.periodic_used, 0)

    @property
    def used_share(self) -> float:
        """How much of the free hours is used, 0 to 1, for the bar."""
        return float(min(self.hours_used / self.hours, 1)) if self.hours else 0.0


def visit_quota(
    catalog: Catalog,
    plan_code: str | None,
    year: tuple[date, date] | None,
    hours_used: Decimal,
    periodic_used: int,
) -> Quota:
    if year is None:
        return Quota(None, 0, Decimal(0), 0, 0)
    return Quota(
        year,
        free_hours(catalog, plan_code),
        Decimal(hours_used),
        periodic_visits(catalog, plan_code),
        periodic_used,
    )


def periodic_proposals(year: tuple[date, date], count: int) -> tuple[date, ...]:
    """When the portal proposes a contract year's ``count`` periodic visits: spread evenly,
    the first a share of the year in (two a year: at four and eight months)."""
    start, end = year
    length = (end - start).days + 1
    return tuple(start + timedelta(days=length * (n + 1) // (count + 1)) for n in range(count))


# --- prices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitPrice:
    """What a visit costs before it is booked: the free hours it uses, the quote for the
    rest (None when free), and whether travel and accommodation are billed on top at cost."""

    hours: int
    covered_hours: int
    periodic: bool
    periodic_covered: bool
    quote: Quote | None
    travel_at_cost: bool

    @property
    def is_free(self) -> bool:
        return self.quote is None

    @property
    def charged_hours(self) -> int:
        return self.hours - self.covered_hours


def price_visit(
    catalog: Catalog,
    quota: Quota,
    hours: int,
    region: str,
    periodic: bool = False,
) -> VisitPrice:
    """What booking a visit of ``hours`` in ``region`` costs against ``quota``.

    In the area, free hours cover what they can; a periodic visit within the plan's is
    free and uses no hours, one beyond them costs the catalog's extra periodic visit.
    Out of town no free time applies, and travel is billed at cost. PlanError
    ``visit_not_priced`` when the catalog has no price for what is not covered.
    """
    check_block(catalog, hours)
    check_region(region)
    terms = catalog.visits
    in_area = region == AREA
    travel = not in_area and terms.travel is not None
    if periodic:
        if in_area and quota.periodic_left > 0:
            return VisitPrice(hours, 0, True, True, None, travel)
        if terms.extra_periodic is None:
            raise PlanError("visit_not_priced", "The provider sets no price for this visit")
        priced = quote(catalog, ServiceQuoteRequest(terms.extra_periodic, quantity=1))
        return VisitPrice(hours, 0, True, False, priced, travel)
    covered = min(int(quota.hours_left), hours) if in_area else 0
    charged = hours - covered
    if charged == 0:
        return VisitPrice(hours, covered, False, False, None, travel)
    if terms.onsite is None:
        raise PlanError("visit_not_priced", "The provider sets no price for this visit")
    return VisitPrice(
        hours, covered, False, False, price_time(catalog, terms.onsite, charged * 60), travel
    )


# --- dispatch --------------------------------------------------------------------------------


def dispatch_rank(catalog: Catalog, plan_code: str | None) -> int:
    """Where a plan's "as soon as possible" requests stand in the queue: its place in the
    catalog's priority list (premium 0, standard 1), plans not in it last."""
    order = catalog.visits.priority
    return order.index(plan_code) if plan_code in order else len(order)


def can_change(starts_at: datetime, now: datetime, change_hours: int) -> bool:
    """Whether a client may still move or cancel a visit starting at ``starts_at`` itself
    (later, staff do it)."""
    return now <= starts_at - timedelta(hours=change_hours)


def hours_between(span: Span) -> Decimal:
    return Decimal((span[1] - span[0]).total_seconds()) / 3600


def busy_by_technician(
    rows: Iterable[tuple[int, datetime, datetime]],
) -> Mapping[int, tuple[Span, ...]]:
    """``(technician, start, end)`` rows grouped by technician."""
    grouped: dict[int, list[Span]] = {}
    for technician_id, start, end in rows:
        grouped.setdefault(technician_id, []).append((start, end))
    return {key: tuple(sorted(spans)) for key, spans in grouped.items()}
