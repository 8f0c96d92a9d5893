"""Immutable domain objects of a catalog: plans, features, units, services, calendars, SLA targets.

A catalog is built once by :mod:`portal.plans.loading` and never changes; a new
price list is a new catalog version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

from portal.plans.terms import Term

if TYPE_CHECKING:
    from portal.plans.provider import Provider

FALLBACK_LOCALE = "en"
# The plural forms (CLDR categories) a whole count takes in each language of the portal:
# "1 register, 2 registers"; "1 касса, 2 кассы, 5 касс" (and "other" for fractions).
PLURAL_CATEGORIES = {
    "en": ("one", "other"),
    "ru": ("one", "few", "many", "other"),
    "uk": ("one", "few", "many", "other"),
    "fa": ("one", "other"),
    "kk": ("one", "other"),
}

_SECONDS = {
    "minutes": Decimal(60),
    "working_minutes": Decimal(60),
    "hours": Decimal(3600),
    "days": Decimal(86400),
    "working_hours": Decimal(3600),
}

# Billing schedules a catalog may offer: code -> months covered by one installment.
BILLING_MONTHS = {"monthly": 1, "half-year": 6, "year": 12}


class LocalizedText(Mapping[str, str]):
    """A text in several locales; ``text.get_for(locale)`` falls back to English, then any."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str]):
        self._texts = MappingProxyType(dict(texts))

    def __getitem__(self, locale: str) -> str:
        return self._texts[locale]

    def __iter__(self):
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._texts.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._texts) == dict(other)

    def __repr__(self) -> str:
        return f"LocalizedText({dict(self._texts)!r})"

    def get_for(self, locale: str, default_locale: str | None = None) -> str:
        """The text for ``locale`` (``fa`` also matches ``fa_IR``), else a fallback."""
        for candidate in (locale, locale.split("_")[0], default_locale, FALLBACK_LOCALE):
            if candidate and candidate in self._texts:
                return self._texts[candidate]
        return next(iter(self._texts.values()), "")


@dataclass(frozen=True)
class Duration:
    """A span as a catalog states it: ``amount`` of ``unit``.

    ``unit`` is one of minutes, hours, days (24/7 clock) or working_minutes,
    working_hours, working_days (working time of a calendar).
    """

    amount: Decimal
    unit: str

    @property
    def working(self) -> bool:
        return self.unit.startswith("working_")

    def timedelta(self, working_day: timedelta | None = None) -> timedelta:
        """The span as elapsed time (24/7) or as working time, given the working-day length."""
        if self.unit == "working_days":
            if working_day is None:
                raise ValueError("working days need a calendar")
            seconds = Decimal(int(working_day.total_seconds())) * self.amount
        else:
            seconds = self.amount * _SECONDS[self.unit]
        return timedelta(seconds=int(seconds))


# A working day's hours: intervals in order, each opening before it closes ((09:00, 13:00), …).
Intervals = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class Calendar:
    """Working time in ``timezone``: on the weekdays ``days`` (0 = Monday), the intervals
    ``hours`` (a lunch break makes two), or the weekday's own in ``weekday_hours``.

    Public holidays of ``holidays_country`` (dates only) are days off; that
    country's decreed working weekend days are working days, on ``hours``. The
    working day before a public holiday is shorter by ``shortened_before_holidays``
    (Russia and Kazakhstan: one hour). ``exceptions`` give dated days their own
    hours, ``()`` for a closure: they override everything else, shortening included.

    Tuples, not mappings, so that a calendar is hashable and its index can be cached.
    """

    code: str
    timezone: str
    days: frozenset[int]
    hours: Intervals
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    weekday_hours: tuple[tuple[int, Intervals], ...] = ()
    exceptions: tuple[tuple[date, Intervals], ...] = ()
    shortened_before_holidays: timedelta = timedelta(0)

    def __hash__(self) -> int:
        # Worked out once: a calendar keys the engine's caches on every deadline asked.
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash(
            (
                self.code,
                self.timezone,
                self.days,
                self.hours,
                self.holidays_country,
                self.holidays_subdivision,
                self.weekday_hours,
                self.exceptions,
                self.shortened_before_holidays,
            )
        )

    @property
    def opens(self) -> time:
        """The regular day's opening time."""
        return self.hours[0][0]

    @property
    def closes(self) -> time:
        """The regular day's closing time."""
        return self.hours[-1][1]

    @property
    def working_day(self) -> timedelta:
        """The nominal working day: the length of the regular day's intervals (09:00-13:00 and
        14:00-18:00 give 8 hours). ``N working days`` are N times it, in working time."""
        return interval_length(self.hours)

    def hours_on_weekday(self, weekday: int) -> Intervals:
        """The intervals of a regular ``weekday`` (the weekday's own, else ``hours``)."""
        return self._weekday_map.get(weekday, self.hours)

    def exception_on(self, day: date) -> Intervals | None:
        """The dated exception's intervals for ``day`` (``()`` closed), or None."""
        return self._exception_map.get(day)

    # Looked up for every day a deadline walks: made into mappings once.
    @cached_property
    def _weekday_map(self) -> Mapping[int, Intervals]:
        return dict(self.weekday_hours)

    @cached_property
    def _exception_map(self) -> Mapping[date, Intervals]:
        return dict(self.exceptions)


_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def parse_intervals(value: str) -> Intervals:
    """``"09:00-13:00, 14:00-18:00"``: a day's intervals, in order, none overlapping.
    ValueError with the reason for anything else (catalog files and staff forms say it
    their own way)."""
    intervals: list[tuple[time, time]] = []
    for part in value.split(","):
        match = _HOURS.fullmatch(part.strip())
        try:
            opens = time(int(match[1]), int(match[2])) if match else None
            closes = time(int(match[3]), int(match[4])) if match else None
        except ValueError:
            opens = closes = None
        if opens is None or closes is None or opens >= closes:
            raise ValueError(f"'{part.strip()}' must be HH:MM-HH:MM with opening before closing")
        if intervals and opens < intervals[-1][1]:
            raise ValueError(f"'{value}': intervals must be in order and not overlap")
        intervals.append((opens, closes))
    return tuple(intervals)


def interval_length(intervals: Intervals) -> timedelta:
    """The working time of a day's intervals."""
    total = timedelta(0)
    for opens, closes in intervals:
        total += datetime.combine(date.min, closes) - datetime.combine(date.min, opens)
    return total


@dataclass(frozen=True)
class Unit:
    """Something priced or counted per piece: a workstation, a register, a network.

    ``counted`` holds, per locale, the word for each plural form a count takes
    (``{"ru": {"one": "касса", "few": "кассы", "many": "касс", "other": "кассы"}}``),
    so that "100 касс" is said as the language says it; see PLURAL_CATEGORIES.
    """

    code: str
    name: LocalizedText
    default_quantity: int = 0
    description: LocalizedText | None = None
    counted: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Feature:
    """A row of the comparison: ``kind`` is yes-no, quantity, duration or text."""

    code: str
    group: str
    kind: str
    name: LocalizedText
    unit: LocalizedText | None = None
    per: str | None = None


@dataclass(frozen=True)
class FeatureValue:
    """One plan's value of a feature; only the attribute matching the feature's kind is set."""

    kind: str
    flag: bool | None = None
    quantity: Decimal | None = None
    unlimited: bool = False
    duration: Duration | None = None
    text: LocalizedText | None = None
    note: LocalizedText | None = None

    @property
    def included(self) -> bool:
        """Whether the plan offers the feature at all (a yes, a quantity above 0, a text)."""
        if self.kind == "yes-no":
            return bool(self.flag)
        if self.kind == "quantity":
            return self.unlimited or bool(self.quantity)
        return True


@dataclass(frozen=True)
class SlaTarget:
    """The definition of an SLA target code shared by the plans of a catalog.

    ``applies``: on ``every-ticket`` (KBS's reaction), on the one the client
    ``claimed`` when filing (iiko's error types), or once staff confirm a defect
    (``confirmed-defect``: Crystals' fix date). ``met_by``: the first public staff
    reply (``first-reply``), the ticket resolved (``resolution``), or the fix date
    recorded (``fix-date``).
    """

    code: str
    name: LocalizedText
    description: LocalizedText | None = None
    applies: str = "claimed"
    met_by: str = "resolution"


@dataclass(frozen=True)
class PlanSla:
    """A plan's promise for one target: ``upper`` (promised) and optional ``lower`` (expected)."""

    target: str
    upper: Duration
    lower: Duration | None = None

    @property
    def clock(self) -> str:
        return "working" if self.upper.working else "24/7"


@dataclass(frozen=True)
class TermOffer:
    """A term a plan offers: its price (table plans), renewal-only flag, renewal discount."""

    term: Term
    price: Decimal | None = None
    renewal_only: bool = False
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Eligibility:
    """Minimum number of ``unit`` a client must have for the plan."""

    unit: str
    minimum: int


@dataclass(frozen=True)
class Plan:
    """A support plan. ``pricing`` is one of:

    - ``term-table``: a price per term (``terms``), loyalty prices for continuous renewals;
    - ``per-unit``: ``unit_prices`` per unit per month, billing schedules with prepayment discounts;
    - ``per-request``: ``unit_prices`` per unit per request, no term;
    - ``percent-of-licence``: ``percent`` of the licence value a year;
    - ``on-request``: no published price; ``eligibility`` states who may ask;
    - ``included``: comes with the software licence at no charge, no term.
    """

    code: str
    name: LocalizedText
    pricing: str
    calendar: str | None
    terms: Mapping[Term, TermOffer]
    description: LocalizedText | None = None
    features: Mapping[str, FeatureValue] = field(default_factory=dict)
    sla: Mapping[str, PlanSla] = field(default_factory=dict)
    loyalty: Mapping[Term, Decimal] = field(default_factory=dict)
    unit_prices: Mapping[str, Decimal] = field(default_factory=dict)
    billing: Mapping[str, Decimal] = field(default_factory=dict)
    default_billing: str | None = None
    percent: Decimal | None = None
    eligibility: Eligibility | None = None
    default_term: Term | None = None
    # A plan priced on request: the counts a quote request asks for, each with its
    # question ("Number of cash registers"); the eligibility unit always among them.
    quote_questions: Mapping[str, LocalizedText] = field(default_factory=dict)
    # No longer offered to new clients: left out of the comparison and of new orders and
    # upgrades; a client on it still renews it, and what was sold of it reads as before.
    archived: bool = False

    @property
    def takes_term(self) -> bool:
        return self.pricing not in ("per-request", "included")

    def offers_budget_year(self) -> bool:
        return any(term.kind == "budget" for term in self.terms)

    def offer_for(self, term: Term) -> TermOffer | None:
        """The offer for ``term``; a budget year of any year matches the ``budget`` entry."""
        if term.kind == "budget":
            return next((o for t, o in self.terms.items() if t.kind == "budget"), None)
        return self.terms.get(term)


@dataclass(frozen=True)
class Bundle:
    hours: int
    price: Decimal


@dataclass(frozen=True)
class Fee:
    """A one-time fee added to a service the first time a client uses it."""

    code: str
    name: LocalizedText
    amount: Decimal


@dataclass(frozen=True)
class Service:
    """Something bought apart from a plan: ``hourly`` (hours, bundles, minimum, fee) or ``fixed``.

    ``kind`` says what it is for the portal: ``hours`` (specialist time),
    ``remote-session`` (booked in advance) or ``extra``.
    """

    code: str
    name: LocalizedText
    pricing: str
    kind: str
    description: LocalizedText | None = None
    price: Decimal | None = None
    minimum_hours: Decimal = Decimal(0)
    hour_step: Decimal | None = None
    bundles: tuple[Bundle, ...] = ()
    one_time_fee: Fee | None = None


@dataclass(frozen=True)
class WorkTerms:
    """How a catalog counts and sells time (its ``[work]`` section).

    ``included``: a per-month quantity feature, the specialist hours a plan
    includes each calendar month; ``extra``: the hourly service that prices
    time beyond them (and sells hours in advance, its bundles);
    ``connections``: a per-month quantity feature limiting remote connections;
    ``acts``: each month with paid service produces an act of completed work;
    ``report_unit``: the unit of a contract that mails the monthly report;
    ``sessions``: the calendar remote sessions are booked on.
    """

    included: str | None = None
    extra: str | None = None
    connections: str | None = None
    acts: bool = False
    report_unit: str | None = None
    sessions: str | None = None


@dataclass(frozen=True)
class VisitTerms:
    """How a catalog books on-site visits (its ``[visits]`` section; the block lengths are
    the catalog's ``visit_blocks``).

    ``calendar``: the technicians' working hours unless a technician has their own;
    ``area``: the service area (Tehran) whose clients the free hours are for, the rest
    being "out of town"; ``free_hours``: a per-year quantity feature, the free on-site
    hours a plan includes each contract year; ``periodic``: a per-year quantity
    feature, the periodic visits a plan includes, each booked as a ``periodic_hours``
    block; ``priority``: plans in dispatch order (first is sent first); ``onsite``:
    the hourly service pricing on-site hours beyond the free ones (its bundles price
    whole blocks); ``extra_periodic``: the fixed service pricing a periodic visit
    beyond the plan's; ``travel``: the out-of-scope item that bills travel outside the
    area at cost; ``planned``: plans whose contract includes visits the provider
    schedules; ``notice_hours``: how far ahead a visit can be booked;
    ``change_hours``: until how long before it a client may move or cancel it.
    """

    calendar: str | None = None
    area: LocalizedText | None = None
    free_hours: str | None = None
    periodic: str | None = None
    periodic_hours: int | None = None
    priority: tuple[str, ...] = ()
    onsite: str | None = None
    extra_periodic: str | None = None
    travel: str | None = None
    planned: tuple[str, ...] = ()
    notice_hours: int = 4
    change_hours: int = 24


@dataclass(frozen=True)
class ScopeItem:
    """A category of problem the provider does not resolve under the plan."""

    code: str
    name: LocalizedText
    help: LocalizedText | None = None


@dataclass(frozen=True)
class CallbackPromise:
    """How soon a manager calls back a prospective client: ``within``, on ``calendar``'s hours."""

    within: Duration
    calendar: str | None = None


@dataclass(frozen=True)
class Catalog:
    """A provider's whole offer; ``version`` is set when it is read from the database."""

    code: str
    name: LocalizedText
    currency: str
    locale: str
    timezone: str
    plans: Mapping[str, Plan]
    units: Mapping[str, Unit] = field(default_factory=dict)
    features: tuple[Feature, ...] = ()
    feature_groups: Mapping[str, LocalizedText] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    sla_targets: Mapping[str, SlaTarget] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    out_of_scope: tuple[ScopeItem, ...] = ()
    payment_methods: tuple[str, ...] = ("card", "bank-transfer")
    visit_blocks: tuple[int, ...] = ()
    provider: Provider | None = None
    callback: CallbackPromise | None = None
    work: WorkTerms = field(default_factory=WorkTerms)
    visits: VisitTerms = field(default_factory=VisitTerms)
    version: int | None = None
    checksum: str | None = None

    def with_version(self, version: int, checksum: str | None = None) -> Catalog:
        """This catalog as published version ``version`` of a source with ``checksum``."""
        return replace(self, version=version, checksum=checksum)

    @property
    def offered(self) -> Mapping[str, Plan]:
        """The plans offered to new clients, in the catalog's order (the archived left out)."""
        return {code: plan for code, plan in self.plans.items() if not plan.archived}

    @property
    def brand(self) -> LocalizedText:
        """The provider's brand (``SOFTCOM``), else the catalog's name."""
        return self.provider.brand if self.provider else self.name

    def calendar_of(self, plan: Plan) -> Calendar | None:
        return self.calendars.get(plan.calendar) if plan.calendar else None
