"""Time that is counted and paid: included hours, prepaid hours, extra time, connections, sessions.

Time is counted in whole minutes and split per calendar month. A month's
billable minutes use the month's included hours first (the plan's ``[work]
included`` feature, for the plan covering that month), then the prepaid balance
(hours bought in advance), and the rest is extra time, priced by the catalog's
``[work] extra`` service. Remote connections are counted per calendar month
against the plan's ``[work] connections`` feature. Paid remote sessions are
booked on the ``[work] sessions`` calendar and priced by the time spent.

Pure: every fact (periods, minutes already settled, the balance, the clock)
arrives as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

from portal.plans.catalog import Calendar, Catalog, Service
from portal.plans.errors import PlanError
from portal.plans.pricing import Quote, quote
from portal.plans.requests import ServiceQuoteRequest
from portal.plans.sla import day_hours, localize

MINUTES_PER_HOUR = 60
# Time is billed to the hundredth of an hour (36 seconds), rounded up, unless the
# service sells whole hours or steps.
BILLING_STEP = Decimal("0.01")
# The longest piece of work one entry records: 24 hours.
MAX_ENTRY_MINUTES = 24 * 60
# How far ahead a remote session can be booked.
SESSION_DAYS = 14
SESSION_LENGTH = timedelta(hours=1)


# --- months ----------------------------------------------------------------------------------


def month_of(day: date) -> date:
    """The first day of ``day``'s calendar month."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def last_day(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def previous_month(month: date) -> date:
    return month_of(month.replace(day=1) - timedelta(days=1))


def parse_month(value: str, field_name: str = "month") -> date:
    """``2026-11`` as its first day; a clear error for anything else."""
    try:
        year, month = value.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(value)
        return date(int(year), int(month), 1)
    except ValueError:
        raise PlanError(
            "invalid_month", "{value} is not a month (YYYY-MM)", field_name, value=value
        ) from None


def hours_of(minutes: int) -> Decimal:
    """Minutes as hours, exactly when they divide, else to four decimals (for display)."""
    hours = Decimal(minutes) / MINUTES_PER_HOUR
    return hours.quantize(Decimal("0.0001")).normalize() if hours % 1 else Decimal(minutes // 60)


def minutes_of(hours: Decimal) -> int:
    return int((hours * MINUTES_PER_HOUR).to_integral_value(rounding=ROUND_CEILING))


# --- what a plan includes --------------------------------------------------------------------


def _quantity(catalog: Catalog, plan_code: str | None, feature: str | None):
    if feature is None or plan_code is None or plan_code not in catalog.plans:
        return None
    return catalog.plans[plan_code].features.get(feature)


def included_hours(catalog: Catalog, plan_code: str | None) -> Decimal:
    """The specialist hours ``plan_code`` includes each calendar month (0: none)."""
    value = _quantity(catalog, plan_code, catalog.work.included)
    if value is None or value.unlimited or value.quantity is None:
        return Decimal(0)
    return value.quantity


@dataclass(frozen=True)
class ConnectionLimit:
    """Remote connections a plan allows a month: ``limit`` None is unlimited."""

    counted: bool
    limit: int | None

    def is_paid(self, used: int) -> bool:
        """Whether the connection after ``used`` ones this month is beyond the limit."""
        return self.counted and self.limit is not None and used >= self.limit


def connection_limit(catalog: Catalog, plan_code: str | None) -> ConnectionLimit:
    """What ``plan_code`` allows: counted when the catalog counts connections; a plan
    without the feature allows none free, one marked unlimited counts but never limits."""
    if catalog.work.connections is None:
        return ConnectionLimit(False, None)
    value = _quantity(catalog, plan_code, catalog.work.connections)
    if value is not None and value.unlimited:
        return ConnectionLimit(True, None)
    if value is None or value.quantity is None:
        return ConnectionLimit(True, 0)
    return ConnectionLimit(True, int(value.quantity))


@dataclass(frozen=True)
class PlanSpan:
    """A plan held from ``start`` to ``end`` inclusive."""

    plan: str
    start: date
    end: date


def month_allowance(catalog: Catalog, spans: Iterable[PlanSpan], month: date) -> int:
    """Included minutes of ``month``: those of the most generous plan covering any of its
    days. A period that starts or ends within the month still gives the whole month's
    hours: the offer promises hours per calendar month, not per day."""
    end = last_day(month)
    return max(
        (
            minutes_of(included_hours(catalog, span.plan))
            for span in spans
            if span.start <= end and span.end >= month
        ),
        default=0,
    )


# --- splitting a month's time ----------------------------------------------------------------


@dataclass(frozen=True)
class MonthTime:
    """One calendar month: its included minutes, those already used by settled time, and
    the billable minutes not yet settled."""

    month: date
    allowance: int
    included_used: int
    open_minutes: int


@dataclass(frozen=True)
class Split:
    """How a month's open minutes are paid: included, prepaid, extra (all minutes)."""

    month: date
    included: int
    prepaid: int
    extra: int
    included_left: int


def split_time(months: Sequence[MonthTime], prepaid: int) -> tuple[tuple[Split, ...], int]:
    """Split each month's open minutes, oldest month first: included first, then the
    prepaid balance, then extra. Returns the splits and the balance left."""
    splits = []
    for item in sorted(months, key=lambda m: m.month):
        left = max(item.allowance - item.included_used, 0)
        included = min(left, item.open_minutes)
        rest = item.open_minutes - included
        from_prepaid = min(max(prepaid, 0), rest)
        prepaid -= from_prepaid
        splits.append(
            Split(item.month, included, from_prepaid, rest - from_prepaid, left - included)
        )
    return tuple(splits), prepaid


# --- pricing time ----------------------------------------------------------------------------


def billed_hours(service: Service, minutes: int) -> Decimal:
    """The hours ``service`` charges for ``minutes`` of work: rounded up to its step where it
    has one, else to the hundredth of an hour; never less than its minimum."""
    hours = Decimal(minutes) / MINUTES_PER_HOUR
    step = service.hour_step if service.hour_step is not None else BILLING_STEP
    billed = (hours / step).to_integral_value(rounding=ROUND_CEILING) * step
    return max(billed, service.minimum_hours)


def extra_service(catalog: Catalog) -> Service | None:
    code = catalog.work.extra
    return catalog.services.get(code) if code else None


def price_time(
    catalog: Catalog, service_code: str, minutes: int, first_time: bool = False
) -> Quote:
    """What ``minutes`` of ``service_code`` cost as the engine charges them now (KBS: the
    cheapest mix of bundles and single hours; the one-time fee only when ``first_time``)."""
    service = catalog.services.get(service_code)
    if service is None or service.pricing != "hourly":
        raise PlanError("unknown_service", "Unknown service {value}", "service", value=service_code)
    hours = billed_hours(service, minutes)
    return quote(catalog, ServiceQuoteRequest(service_code, hours=hours, first_time=first_time))


def price_extra(catalog: Catalog, minutes: int) -> Quote | None:
    """The price of ``minutes`` of extra time, or None when the catalog sells none."""
    service = extra_service(catalog)
    if service is None or minutes <= 0:
        return None
    return price_time(catalog, service.code, minutes)


def prepaid_offers(catalog: Catalog) -> tuple[Quote, ...]:
    """The hours a client can buy in advance: each bundle of the extra-time service."""
    service = extra_service(catalog)
    if service is None:
        return ()
    return tuple(
        quote(catalog, ServiceQuoteRequest(service.code, hours=Decimal(bundle.hours)))
        for bundle in service.bundles
    )


def check_minutes(minutes: int, field_name: str = "minutes") -> int:
    if not 1 <= minutes <= MAX_ENTRY_MINUTES:
        raise PlanError(
            "invalid_minutes",
            "Time is between 1 minute and {limit} hours",
            field_name,
            limit=MAX_ENTRY_MINUTES // 60,
        )
    return minutes


def parse_duration(value: str, field_name: str = "duration") -> int:
    """What staff type for time spent, as minutes: ``1.5`` or ``1,5`` (hours), ``1:30``,
    ``90m``, ``1h 30m``, ``1 ч 30 мин``; a clear error for anything else."""
    text = " ".join((value or "").strip().lower().split())
    if not text:
        raise PlanError("missing_parameter", "Say how long the work took", field_name)
    minutes = _duration_minutes(text)
    if minutes is None:
        raise PlanError(
            "invalid_duration",
            "{value} is not a duration: write 1.5, 1:30 or 90m",
            field_name,
            value=value,
        )
    return check_minutes(minutes, field_name)


_HOURS = r"(?:h|hrs?|hours?|ч|час|часа|часов|год|годин|години|сағ|ساعت)\.?"
_MINUTES = r"(?:m|mins?|minutes?|мин|минут|минуты|хв|хвилин|хвилини|дақ|دقیقه)\.?"
_SPELLED = re.compile(
    rf"^(?:(?P<hours>\d+(?:\.\d+)?)\s*{_HOURS})?\s*(?:(?P<minutes>\d+)\s*{_MINUTES})?$"
)
_CLOCK = re.compile(r"^(?P<hours>\d+):(?P<minutes>[0-5]\d)$")
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")


def _duration_minutes(text: str) -> int | None:
    text = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٫,", "0123456789.."))
    if len(text) > 40:
        return None
    if _PLAIN.match(text):
        return minutes_of(Decimal(text))
    clock = _CLOCK.match(text)
    if clock:
        return int(clock["hours"]) * 60 + int(clock["minutes"])
    spelled = _SPELLED.match(text)
    if spelled and (spelled["hours"] or spelled["minutes"]):
        hours = minutes_of(Decimal(spelled["hours"])) if spelled["hours"] else 0
        return hours + int(spelled["minutes"] or 0)
    return None


# --- remote sessions -------------------------------------------------------------------------


def session_calendar(catalog: Catalog) -> Calendar | None:
    code = catalog.work.sessions
    return catalog.calendars.get(code) if code else None


def session_services(catalog: Catalog) -> tuple[Service, ...]:
    """The paid remote sessions a client orders (Kvartplata's ``remote-backup`` and
    ``remote-direct``)."""
    return tuple(s for s in catalog.services.values() if s.kind == "remote-session")


def is_scheduled(service: Service) -> bool:
    """Whether a session connects to the client's computer at a booked time (it has a
    connection fee: ``remote-direct``), rather than working on a backup sent in."""
    return service.one_time_fee is not None


def session_slots(
    calendar: Calendar,
    now: datetime,
    taken: Iterable[datetime] = (),
    days: int = SESSION_DAYS,
    length: timedelta = SESSION_LENGTH,
) -> tuple[datetime, ...]:
    """The free session times of the next ``days`` days, in the calendar's zone: every
    whole hour of working time that a session of ``length`` fits in, from the next working
    hour after ``now`` (a session is never instant), minus the ``taken`` ones."""
    zone = ZoneInfo(calendar.timezone)
    taken_set = {moment.astimezone(zone) for moment in taken}
    local_now = now.astimezone(zone)
    slots = []
    for offset in range(days + 1):
        day = local_now.date() + timedelta(days=offset)
        for opens, closes in day_hours(calendar, day):
            start = localize(datetime.combine(day, _whole_hour_at_or_after(opens)), zone)
            close = localize(datetime.combine(day, closes), zone)
            while start + length <= close:
                if start > local_now and start not in taken_set:
                    slots.append(start)
                start = localize((start + length).replace(tzinfo=None), zone)
    return tuple(slots)


def _whole_hour_at_or_after(moment: time) -> time:
    if moment.minute == 0 and moment.second == 0:
        return moment
    return time((moment.hour + 1) % 24)


def is_free_slot(calendar: Calendar, moment: datetime, now: datetime, taken=()) -> bool:
    return moment.astimezone(ZoneInfo(calendar.timezone)) in session_slots(calendar, now, taken)
