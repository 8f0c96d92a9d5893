"""Performance benchmark of the plan engine and of its JSON API.

Run from the repository root. The app's database lives in a temporary directory; as at
any start of the app, ``create_app`` compiles translations under instance/ if they are stale::

    .venv/bin/python bench/run.py              # about 40 s, 2 s per measurement
    .venv/bin/python bench/run.py --quick      # about 10 s, a smoke test
    .venv/bin/python bench/run.py --seconds 5  # steadier figures, a longer run
    .venv/bin/python bench/run.py --json       # the figures as JSON on stdout, no table
    .venv/bin/python bench/run.py --json bench/results/run.json   # table, and JSON to a file

What is measured
----------------

1. Quotes: ``parse_quote_request`` + ``quote`` together, the engine's work for
   one API quote, on twelve fixed, realistic requests over the five bundled
   catalogs (every pricing kind, two services). "mix" prices the twelve in
   turn; the rows under it time each one alone, with its total for reference.
   No Flask, no database: the catalogs are loaded once with ``load_catalog``.

2. SLA due times on the KBS ``office`` calendar (Mon-Fri 09:00-18:00
   Europe/Kyiv, Ukrainian public holidays) for a span of 1 working hour and
   one of 30 working days (30 x 9 h), over a fixed pseudo-random list of
   aware opened times spread over 2027, nights and weekends included.

   - ``add_working_time(calendar, opened, span)``: the engine's clock;
   - ``due_at(catalog, plan, target, opened)``: the engine's entry point, on a
     copy of kbs.toml with one extra plan whose targets are 1 working hour and
     30 working days (adds the plan and target look-ups and the SlaDue);
   - pandas: ``ts + CustomBusinessHour(n=hours, start, end, weekmask,
     holidays)``, on naive local ``Timestamp``s, the offset built once a span;
   - businesstimedelta: ``dt + BusinessTimeDelta(rules, hours=hours)`` on
     naive local datetimes, ``rules = Rules([WorkDayRule(...), HolidayRule(...)])``.

   All four get the same opened times in the same order and the same holiday
   dates (those of the ``holidays`` package, as the engine reads them). The
   peers know no time zones: they get the times already turned into naive
   local wall time, so they do a little less work than the engine, which
   converts every aware time and returns an aware one. The contenders run in
   interleaved rounds, so a slow-down of the machine hits all alike, and each
   goes through the whole list at least once.

   Note: holidays 0.109 gives Ukraine no days off from 2023 on (under martial
   law public holidays are working days), so on this calendar only weekends
   are skipped. The correctness checks therefore also run on the iiko
   ``contract`` calendar (Mon-Fri 09:00-18:00 Asia/Omsk, Russian holidays).

   The checks: for opened times inside working hours in "normal" weeks (that
   week and the next without a holiday, a decreed working day or a DST
   change) the engine and both peers must give the same local wall-clock
   deadline 1 hour on; over 30 days every opened time inside working hours
   is compared, holidays included. pandas moves a deadline that falls exactly
   at closing time to the next opening; the engine and businesstimedelta keep
   the closing time: that counts as agreement and is reported. A weekend day
   that a country decreed a working day (Russia: Sat 2027-02-20) is a working
   day for the engine and a day off for both peers: such disagreements are
   counted apart; any other is reported as UNEXPLAINED.

3. HTTP: ``GET /api/v1/quote?plan=optima&term=7m`` against ``GET
   /bench/constant``, a plain view registered on the same app that returns
   ``flask.jsonify`` of the JSON the quote endpoint answered once (the bodies
   are checked to be byte-identical), both through the Flask test client of
   one app (SQLite in a temporary directory, schema by ``flask_migrate.upgrade``),
   warmed up, then in alternating rounds. The difference is what a quote adds
   to a bare Flask JSON answer, and "engine's share" is (quote - constant) /
   quote, as the issue defines it. It is more than the engine: to show where
   it goes, a second, shorter run wraps the four calls the quote view makes
   (``current_catalog``, ``parse_quote_request``, ``quote``, ``quote_document``,
   as ``portal.api.routes`` names them) with timers, in this process only,
   and sums them over real requests; "rest" is the remainder (the database
   session's teardown, routing, the clock, the query string). Code in a
   request runs several times slower than in the tight loops of section 1
   (colder CPU caches), so compare the parts with each other, not with 1.

How to read it
--------------

"µs each" is the cost of one call: the mean of each round, then the median
over the rounds, so a burst of other load spoils one round, not the figure.
"per second" is its inverse (one thread, one core). "spread" is (slowest
round - fastest round) / median round: above 10-20 % the machine was busy
and the absolute figures are rough. Ratios divide costs (µs):
"engine/pandas 0.10" means the engine takes a tenth of pandas' time. The
"30d/1h" ratio of the engine must stay under 3 (it skips whole working days
through a per-year index, so a long span should cost about what a short one
does): PASS/FAIL is printed beside it, and the exit status is 0 either way.
"cold" is the first due time of the process, which builds the year's index
of working days from the holidays package.

Absolute figures depend on the machine and its load: compare runs made on one
machine, and prefer the ratios, which travel better.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from portal.plans import (  # noqa: E402  (the repository root must be on sys.path first)
    Catalog,
    due_at,
    load_catalog,
    parse_catalog,
    parse_quote_request,
    quote,
)
from portal.plans.catalog import Calendar, interval_length  # noqa: E402
from portal.plans.loading import bundled_catalog_path  # noqa: E402
from portal.plans.sla import add_working_time, day_hours, nth_working_day  # noqa: E402

# The date the quotes are asked on (as in the tests): renewals from 2026-12-31 start in 2027.
TODAY = date(2026, 11, 22)
SEED = 20261122
OPENED_YEAR = 2027
HOLIDAY_YEARS = range(OPENED_YEAR - 1, OPENED_YEAR + 3)
SLA_RATIO_LIMIT = 3.0
QUOTE_URL = "/api/v1/quote?plan=optima&term=7m"
CONSTANT_URL = "/bench/constant"
# The calls of the quote view, as the view module names them, for the breakdown of section 3.
VIEW_PARTS = ("current_catalog", "parse_quote_request", "quote", "quote_document")
WEEKMASK_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# (catalog, label, params): the parameters exactly as the API and the CLI pass them.
QUOTE_CASES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("kbs", "optima 7m", {"plan": "optima", "term": "7m"}),
    (
        "kbs",
        "optima 6m, loyalty renewal",
        {"plan": "optima", "term": "6m", "previous_plan": "optima", "previous_end": "2026-12-31"},
    ),
    ("kbs", "optima budget:2027", {"plan": "optima", "term": "budget:2027"}),
    *(
        (
            "iiko",
            f"contract 12m, 3 ws + 2 fr, {billing}",
            {
                "plan": "contract",
                "term": "12m",
                "qty.workstation": "3",
                "qty.fiscal-register": "2",
                "billing": billing,
            },
        )
        for billing in ("half-year", "year", "monthly")
    ),
    (
        "iiko",
        "one-off, 1 ws + 1 fr",
        {"plan": "one-off", "qty.workstation": "1", "qty.fiscal-register": "1"},
    ),
    ("iotex", "basic 1y", {"plan": "basic", "term": "1y", "licence_value": "1234567"}),
    (
        "iotex",
        "premium 2y, renewal",
        {
            "plan": "premium",
            "term": "2y",
            "licence_value": "1234567",
            "previous_plan": "premium",
            "previous_end": "2026-12-31",
        },
    ),
    (
        "crystals",
        "garant 12m, 150 registers",
        {"plan": "garant", "term": "12m", "qty.register": "150"},
    ),
    ("kvartplata", "service remote-direct 2.5 h", {"service": "remote-direct", "hours": "2.5"}),
    ("kbs", "service hours 13 h (bundles)", {"service": "hours", "hours": "13"}),
)

# kbs.toml plus a plan whose SLA targets are 1 working hour and 30 working days, for due_at.
BENCH_PLAN_TOML = """
[sla_targets.bench-hour]
name = { en = "Bench: one working hour" }

[sla_targets.bench-month]
name = { en = "Bench: thirty working days" }

[plans.bench]
name = { en = "Bench" }
pricing = "term-table"
calendar = "office"
[plans.bench.terms]
1m = 1
[plans.bench.sla]
bench-hour = { working_hours = 1 }
bench-month = { working_days = 30 }
"""


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Timing:
    """What one contender did: ``calls`` in ``seconds``, and the mean µs per call of each round."""

    name: str
    calls: int = 0
    seconds: float = 0.0
    rounds_us: list[float] = field(default_factory=list)

    @property
    def us(self) -> float:
        """µs per call: the median of the rounds' means (robust to a burst of other load)."""
        return statistics.median(self.rounds_us)

    @property
    def mean_us(self) -> float:
        return self.seconds / self.calls * 1e6

    @property
    def rate(self) -> float:
        return 1e6 / self.us

    @property
    def spread(self) -> float:
        """(slowest round - fastest round) / median round."""
        if len(self.rounds_us) < 2:
            return 0.0
        return (max(self.rounds_us) - min(self.rounds_us)) / statistics.median(self.rounds_us)

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "seconds": round(self.seconds, 4),
            "per_second": round(self.rate, 1),
            "us_each": round(self.us, 3),
            "mean_us": round(self.mean_us, 3),
            "spread": round(self.spread, 4),
            "rounds_us": [round(u, 3) for u in self.rounds_us],
        }


@dataclass
class Contender:
    """``run(batch)`` does one call per item of ``batch``; ``items`` is the whole workload."""

    name: str
    run: Callable[[Sequence], object]
    items: Sequence
    chunk: int = 32


def race(contenders: Sequence[Contender], seconds: float, rounds: int) -> dict[str, Timing]:
    """About ``seconds`` of calls for each contender, in ``rounds`` interleaved rounds.

    Each round gives every contender ``seconds / rounds`` (in whole chunks, walking
    its items in order and wrapping around), in alternating order. Afterwards a
    contender that has not yet been through all of its items finishes the list, so
    every contender's mean covers the same workload at least once.
    """
    chunks = {
        c.name: [c.items[i : i + c.chunk] for i in range(0, len(c.items), c.chunk)]
        for c in contenders
    }
    cursor = dict.fromkeys(chunks, 0)
    timings = {c.name: Timing(c.name) for c in contenders}
    share = seconds / rounds
    clock = time.perf_counter
    gc.collect()

    def slice_of(contender: Contender, budget: float) -> None:
        own, timing = chunks[contender.name], timings[contender.name]
        spent, calls = 0.0, 0
        while spent < budget or calls == 0:
            batch = own[cursor[contender.name] % len(own)]
            cursor[contender.name] += 1
            start = clock()
            contender.run(batch)
            spent += clock() - start
            calls += len(batch)
        timing.calls += calls
        timing.seconds += spent
        timing.rounds_us.append(spent / calls * 1e6)

    for number in range(rounds):
        for contender in contenders if number % 2 == 0 else contenders[::-1]:
            slice_of(contender, share)
    for contender in contenders:
        while timings[contender.name].calls < len(contender.items):
            slice_of(contender, 0.0)
    return timings


def warm(contenders: Sequence[Contender]) -> None:
    for contender in contenders:
        contender.run(contender.items[: contender.chunk])


# --- 1. quotes ---------------------------------------------------------------------------------


def bench_quotes(seconds: float, rounds: int, catalogs: dict[str, Catalog]) -> dict:
    cases = [(catalogs[name], label, params) for name, label, params in QUOTE_CASES]
    priced = []
    for catalog, label, params in cases:
        result = quote(catalog, parse_quote_request(catalog, params, TODAY), TODAY)
        priced.append((catalog.code, label, result.total, result.currency))

    def run(batch):
        for catalog, _label, params in batch:
            quote(catalog, parse_quote_request(catalog, params, TODAY), TODAY)

    mix = Contender("mix", run, cases, chunk=len(cases))
    alone = [Contender(case[1], run, [case] * 16, chunk=16) for case in cases]
    warm([mix, *alone])
    mix_timing = race([mix], seconds, rounds)["mix"]
    case_timings = race(alone, max(seconds / 4, 0.1), max(rounds // 2, 2))
    return {
        "mix": mix_timing,
        "cases": [
            (code, label, total, currency, case_timings[label])
            for code, label, total, currency in priced
        ],
    }


# --- 2. SLA ------------------------------------------------------------------------------------


def opened_times(count: int) -> list[datetime]:
    """``count`` aware UTC datetimes spread over OPENED_YEAR, the same for every run."""
    rng = random.Random(SEED)
    start = datetime(OPENED_YEAR, 1, 1, tzinfo=UTC)
    seconds = int((datetime(OPENED_YEAR + 1, 1, 1, tzinfo=UTC) - start).total_seconds())
    return [start + timedelta(seconds=rng.randrange(seconds)) for _ in range(count)]


def is_shortened(calendar: Calendar, day: date) -> bool:
    """A working day the engine shortens before a public holiday (Russia: an hour)."""
    hours = day_hours(calendar, day)
    return bool(hours) and interval_length(hours) < interval_length(
        calendar.hours_on_weekday(day.weekday())
    )


@dataclass
class Peers:
    """The two public peers set up for one calendar, with the same holiday dates as the engine."""

    calendar: Calendar
    days_off: list[date]
    decreed: list[date]

    @classmethod
    def of(cls, calendar: Calendar) -> Peers:
        import holidays

        days_off, decreed = [], []
        if calendar.holidays_country:
            data = holidays.country_holidays(
                calendar.holidays_country,
                subdiv=calendar.holidays_subdivision,
                years=list(HOLIDAY_YEARS),
            )
            days_off = sorted(data)
            decreed = sorted(
                d for d in getattr(data, "weekend_workdays", ()) if d.year in HOLIDAY_YEARS
            )
        return cls(calendar, days_off, decreed)

    def pandas_offset(self, hours: int):
        from pandas.tseries.offsets import CustomBusinessHour

        cal = self.calendar
        return CustomBusinessHour(
            n=hours,
            start=f"{cal.opens:%H:%M}",
            end=f"{cal.closes:%H:%M}",
            weekmask=" ".join(WEEKMASK_NAMES[d] for d in sorted(cal.days)),
            holidays=self.days_off,
        )

    def business_delta(self, hours: int):
        import businesstimedelta

        cal = self.calendar
        rules = [
            businesstimedelta.WorkDayRule(
                start_time=cal.opens, end_time=cal.closes, working_days=sorted(cal.days)
            )
        ]
        # HolidayRule with no holiday at all crashes (it searches 5 years ahead, then
        # combines None): with no days off the work-day rule alone is the same calendar.
        if self.days_off:
            rules.append(businesstimedelta.HolidayRule(frozenset(self.days_off)))
        return businesstimedelta.BusinessTimeDelta(businesstimedelta.Rules(rules), hours=hours)


def local_walls(calendar: Calendar, opened: Sequence[datetime]) -> list[datetime]:
    zone = ZoneInfo(calendar.timezone)
    return [o.astimezone(zone).replace(tzinfo=None) for o in opened]


def engine_runner(calendar: Calendar, span: timedelta):
    def run(batch):
        for opened in batch:
            add_working_time(calendar, opened, span)

    return run


def due_at_runner(catalog: Catalog, target: str):
    def run(batch):
        for opened in batch:
            due_at(catalog, "bench", target, opened)

    return run


def adder(offset):
    """A peer's idiom: ``start + offset`` (a pandas offset, a BusinessTimeDelta)."""

    def run(batch):
        for start in batch:
            start + offset

    return run


def bench_sla(seconds: float, rounds: int, count: int, catalogs: dict[str, Catalog]) -> dict:
    import pandas as pd

    kbs = catalogs["kbs"]
    calendar = kbs.calendars["office"]
    bench_catalog = parse_catalog(
        bundled_catalog_path("kbs").read_text(encoding="utf-8") + BENCH_PLAN_TOML,
        source="kbs.toml + bench plan",
    )
    opened = opened_times(count)
    hour, month = timedelta(hours=1), 30 * calendar.working_day
    spans = {"1h": (hour, "bench-hour", 1), "30d": (month, "bench-month", 30 * 9)}
    assert calendar.working_day == timedelta(hours=9)

    # The very first due time of the process: builds the year's index of working days.
    start = time.perf_counter()
    add_working_time(calendar, opened[0], hour)
    cold_ms = (time.perf_counter() - start) * 1e3

    peers = Peers.of(calendar)
    walls = local_walls(calendar, opened)
    stamps = [pd.Timestamp(w) for w in walls]

    contenders = []
    for key, (span, target, hours) in spans.items():
        contenders += [
            Contender(f"engine add_working_time {key}", engine_runner(calendar, span), opened),
            Contender(f"engine due_at {key}", due_at_runner(bench_catalog, target), opened),
            Contender(
                f"pandas CustomBusinessHour {key}", adder(peers.pandas_offset(hours)), stamps
            ),
            Contender(f"businesstimedelta {key}", adder(peers.business_delta(hours)), walls),
        ]

    # The engine's two entry points must agree before either is timed.
    mismatched = [
        o
        for o in opened
        for key, (span, target, _) in spans.items()
        if due_at(bench_catalog, "bench", target, o).due != add_working_time(calendar, o, span)
    ]
    warm(contenders)
    timings = race(contenders, seconds, rounds)
    return {
        "calendar": calendar,
        "peers": peers,
        "count": count,
        "cold_ms": cold_ms,
        "timings": timings,
        "due_at_mismatches": len(mismatched),
        "checks": [
            cross_check(calendar, peers, opened, "1h", hour, 1),
            cross_check(calendar, peers, opened, "30d", month, 30 * 9),
        ],
    }


def cross_checks_elsewhere(catalogs: dict[str, Catalog], count: int) -> list[dict]:
    """The same check on a calendar whose country has weekday holidays in OPENED_YEAR."""
    calendar = catalogs["iiko"].calendars["contract"]
    peers = Peers.of(calendar)
    opened = opened_times(count)
    day = calendar.working_day
    return [
        cross_check(calendar, peers, opened, "1h", timedelta(hours=1), 1),
        cross_check(
            calendar, peers, opened, "30d", 30 * day, int(30 * day.total_seconds()) // 3600
        ),
    ]


def cross_check(
    calendar: Calendar,
    peers: Peers,
    opened: Sequence[datetime],
    key: str,
    span: timedelta,
    hours: int,
) -> dict:
    """Compare local wall-clock deadlines of the engine and both peers.

    The 1-hour check samples opened times inside working hours in normal weeks
    (the opened day's week and the next: no holiday, no decreed working day, no
    DST change). The 30-day check samples all opened times inside working hours,
    so holidays are crossed; a decreed working weekend day (which the peers
    cannot model) is reported as the likely cause of a disagreement.
    """
    import pandas as pd

    zone = ZoneInfo(calendar.timezone)
    special = set(peers.days_off) | set(peers.decreed)
    offset, delta = peers.pandas_offset(hours), peers.business_delta(hours)

    def inside_hours(wall: datetime) -> bool:
        return (
            wall.weekday() in calendar.days
            and wall.date() not in special
            and calendar.opens <= wall.time() < calendar.closes
        )

    def normal_weeks(wall: datetime) -> bool:
        monday = wall.date() - timedelta(days=wall.weekday())
        days = [monday + timedelta(days=i) for i in range(14)]
        noon = [datetime.combine(d, datetime.min.time(), zone).replace(hour=12) for d in days]
        return not special.intersection(days) and noon[0].utcoffset() == noon[-1].utcoffset()

    sample = []
    for o in opened:
        wall = o.astimezone(zone).replace(tzinfo=None)
        if inside_hours(wall) and (key != "1h" or normal_weeks(wall)):
            sample.append((o, wall))

    agree = rolled = 0
    disagreements = []
    for o, wall in sample:
        engine = add_working_time(calendar, o, span).replace(tzinfo=None)
        by_pandas = (pd.Timestamp(wall) + offset).to_pydatetime()
        by_business = (wall + delta).replace(tzinfo=None)
        pandas_rolled = (
            by_pandas != engine
            and engine.time() == calendar.closes
            and by_pandas.time() == calendar.opens
            and by_pandas.date() == nth_working_day(calendar, engine.date(), 1)
        )
        if by_business == engine and (by_pandas == engine or pandas_rolled):
            agree += 1
            rolled += pandas_rolled
            continue
        # From the opened day to the latest of the three answers (pandas may roll past one).
        last = max(engine, by_pandas, by_business).date()
        window = {wall.date() + timedelta(days=i) for i in range((last - wall.date()).days + 1)}
        if window & set(peers.decreed):
            cause = "decreed working day in the span"
        elif any(is_shortened(calendar, day) for day in window):
            cause = "shortened pre-holiday day in the span"
        else:
            cause = "?"
        disagreements.append(
            {
                "opened": o.isoformat(),
                "opened_local": wall.isoformat(sep=" "),
                "engine": engine.isoformat(sep=" "),
                "pandas": by_pandas.isoformat(sep=" "),
                "businesstimedelta": by_business.isoformat(sep=" "),
                "likely_cause": cause,
            }
        )
    return {
        "calendar": f"{calendar.code} ({calendar.timezone}, holidays {calendar.holidays_country})",
        "span": key,
        "sampled": len(sample),
        "agree": agree,
        "pandas_rolled_to_next_opening": rolled,
        "disagreements": disagreements,
    }


# --- 3. HTTP -----------------------------------------------------------------------------------


def bench_http(seconds: float, rounds: int) -> dict:
    import flask
    import flask_migrate

    # create_app reads SECRET_KEY from the environment before test_config overrides it;
    # set here, it keeps a fresh checkout from getting an instance/secret_key file.
    os.environ.setdefault("SECRET_KEY", "bench")
    from portal import create_app
    from portal.api import routes
    from portal.extensions import db

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "SECRET_KEY": "bench",
                "PORTAL_CATALOG": "kbs",
            }
        )
        logging.disable(logging.INFO)  # alembic reports each migration at INFO
        try:
            with app.app_context():
                flask_migrate.upgrade()
        finally:
            logging.disable(logging.NOTSET)

        constant: dict = {}
        app.add_url_rule(CONSTANT_URL, "bench_constant", lambda: flask.jsonify(constant))
        client = app.test_client()
        first = client.get(QUOTE_URL)
        if first.status_code != 200:
            raise SystemExit(f"{QUOTE_URL} answered {first.status_code}: {first.get_data(True)}")
        constant.update(first.get_json())
        same_body = client.get(CONSTANT_URL).data == first.data

        def getter(url):
            def run(batch):
                for _ in batch:
                    response = client.get(url)
                    if response.status_code != 200:
                        raise SystemExit(f"{url} answered {response.status_code}")

            return run

        http = [
            Contender(f"GET {QUOTE_URL}", getter(QUOTE_URL), [QUOTE_URL] * 10, chunk=10),
            Contender(f"GET {CONSTANT_URL}", getter(CONSTANT_URL), [CONSTANT_URL] * 10, chunk=10),
        ]
        for _ in range(5):
            warm(http)
        timings = race(http, seconds, rounds)

        # Where the difference goes: the quote view's own calls, timed inside real requests
        # by wrapping the names the view module looks up (this process only, undone after).
        spent = dict.fromkeys(VIEW_PARTS, 0.0)
        originals = {name: getattr(routes, name) for name in VIEW_PARTS}

        def timed(name, function):
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[name] += time.perf_counter() - start

            return wrapper

        for name, function in originals.items():
            setattr(routes, name, timed(name, function))
        try:
            traced = race(http, max(seconds / 2, 0.2), rounds)
        finally:
            for name, function in originals.items():
                setattr(routes, name, function)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    traced_quote = traced[f"GET {QUOTE_URL}"]
    parts = {name: spent[name] / traced_quote.calls * 1e6 for name in VIEW_PARTS}
    return {
        "timings": timings,
        "parts": parts,
        "traced": traced,
        "same_body": same_body,
        "body_bytes": len(first.data),
    }


# --- report ------------------------------------------------------------------------------------


def us(value: float) -> str:
    return (
        f"{value:,.2f}"
        if abs(value) < 10
        else f"{value:,.1f}"
        if abs(value) < 1000
        else f"{value:,.0f}"
    )


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"


HEAD = f"  {'':<48} {'per second':>11} {'µs each':>9} {'spread':>7}"


def row(label: str, timing: Timing, extra: str = "") -> str:
    return f"  {label:<48} {timing.rate:>11,.0f} {us(timing.us):>9} {pct(timing.spread):>7}{extra}"


def versions() -> dict[str, str]:
    names = ("flask", "sqlalchemy", "holidays", "pandas", "businesstimedelta")
    return {name: metadata.version(name) for name in names}


def report(args, started: datetime, quotes: dict, sla: dict, extra: list[dict], http: dict) -> str:
    lines: list[str] = []
    out = lines.append
    info = versions()
    out(
        f"Support portal benchmark, {started:%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    out("  " + ", ".join(f"{k} {v}" for k, v in info.items()))
    out(f"  {args.seconds:g} s per measurement, {args.rounds} interleaved rounds")
    out("")

    out("1. Quotes: parse_quote_request + quote (no Flask, no database)")
    out(HEAD)
    out(row(f"mix of the {len(QUOTE_CASES)} requests below, in turn", quotes["mix"]))
    for code, label, total, currency, timing in quotes["cases"]:
        price = "on request" if total is None else f"{total:,} {currency}"
        out(row(f"{code}: {label}", timing, extra=f"  {price}"))
    out("")

    cal, peers, t = sla["calendar"], sla["peers"], sla["timings"]
    shown = [d for d in peers.days_off if d.year in (OPENED_YEAR, OPENED_YEAR + 1)]
    out(
        f"2. SLA due times, KBS '{cal.code}' calendar: Mon-Fri {cal.opens:%H:%M}-"
        f"{cal.closes:%H:%M} {cal.timezone}, {cal.holidays_country} holidays"
    )
    out(
        f"   ({len(shown)} days off in {OPENED_YEAR}-{OPENED_YEAR + 1} per holidays "
        f"{info['holidays']}); {sla['count']} opened times over {OPENED_YEAR}, the same for all"
    )
    out(f"  {'µs per deadline':<34} {'1 h':>9} {'30 d':>9} {'30d/1h':>8} {'spread':>7}")
    for key, label in SLA_ROWS:
        a, b = t[f"{key} 1h"], t[f"{key} 30d"]
        ratio = b.us / a.us
        verdict = ""
        if key.startswith("engine"):
            verdict = (
                f"  {'PASS' if ratio < SLA_RATIO_LIMIT else 'FAIL'} (limit {SLA_RATIO_LIMIT:g})"
            )
        spread = pct(max(a.spread, b.spread))
        out(f"  {label:<34} {us(a.us):>9} {us(b.us):>9} {ratio:>8.2f} {spread:>7}{verdict}")
    for key, label in SLA_ROWS:
        out(
            f"  {label:<34} {t[key + ' 1h'].rate:>9,.0f} {t[key + ' 30d'].rate:>9,.0f}"
            "   deadlines per second"
        )
    engine = "engine add_working_time"
    for peer, label in SLA_ROWS[2:]:
        out(
            f"  engine/{label.split()[0]} cost ratio: 1 h "
            f"{t[engine + ' 1h'].us / t[peer + ' 1h'].us:.2f}, "
            f"30 d {t[engine + ' 30d'].us / t[peer + ' 30d'].us:.2f}"
        )
    out(f"  cold: the first due time of the process took {sla['cold_ms']:.2f} ms")
    if sla["due_at_mismatches"]:
        out(f"  WARNING: due_at and add_working_time differ on {sla['due_at_mismatches']} times")
    for check in sla["checks"] + extra:
        out(check_line(check))
    out("")

    timings, traced, parts = http["timings"], http["traced"], http["parts"]
    quote_t, const_t = timings[f"GET {QUOTE_URL}"], timings[f"GET {CONSTANT_URL}"]
    out("3. HTTP through the Flask test client: one app, SQLite, alternating rounds")
    out(HEAD)
    out(row(f"GET {QUOTE_URL}", quote_t))
    same = "same bytes" if http["same_body"] else "BODY DIFFERS"
    out(row(f"GET {CONSTANT_URL} ({same}, {http['body_bytes']} B)", const_t))
    diff = quote_t.us - const_t.us
    out(
        f"  difference {us(diff)} µs per request; engine's share (quote - constant) / quote "
        f"= {pct(diff / quote_t.us)}"
    )
    # Means here, as the parts are sums over all the traced requests.
    traced_diff = traced[f"GET {QUOTE_URL}"].mean_us - traced[f"GET {CONSTANT_URL}"].mean_us
    out(
        f"  where it goes, timed inside the quote requests of a second run "
        f"(difference there {us(traced_diff)} µs):"
    )
    for name, spent in parts.items():
        out(f"    {name + '()':<36} {us(spent):>9} µs  {pct(spent / traced_diff):>5}")
    rest = traced_diff - sum(parts.values())
    share = pct(rest / traced_diff)
    out(f"    {'rest (session teardown, routing, ...)':<36} {us(rest):>9} µs  {share:>5}")
    return "\n".join(lines)


SLA_ROWS = (
    ("engine add_working_time", "engine add_working_time"),
    ("engine due_at", "engine due_at"),
    ("pandas CustomBusinessHour", "pandas CustomBusinessHour"),
    ("businesstimedelta", "businesstimedelta"),
)


def check_line(check: dict) -> str:
    span = {"1h": "1 h", "30d": "30 d"}[check["span"]]
    where = "normal weeks" if check["span"] == "1h" else "any week"
    text = (
        f"  peers agree on {check['agree']}/{check['sampled']} sampled deadlines "
        f"({span}, {check['calendar']}, opened in working hours, {where})"
    )
    notes = []
    if check["pandas_rolled_to_next_opening"]:
        notes.append(
            f"{check['pandas_rolled_to_next_opening']} end at closing time (pandas: next opening)"
        )
    causes = [d["likely_cause"] for d in check["disagreements"]]
    decreed = causes.count("decreed working day in the span")
    if decreed:
        notes.append(f"{decreed} differ by a decreed working weekend day the peers cannot model")
    shortened = causes.count("shortened pre-holiday day in the span")
    if shortened:
        notes.append(f"{shortened} differ by a shortened pre-holiday day the peers cannot model")
    unexplained = causes.count("?")
    if unexplained:
        notes.append(f"{unexplained} UNEXPLAINED")
    if notes:
        text += "\n    " + "; ".join(notes)
    for example in check["disagreements"][:2]:
        text += (
            f"\n    e.g. opened {example['opened_local']}: engine {example['engine']}, "
            f"pandas {example['pandas']}, businesstimedelta {example['businesstimedelta']}"
        )
    return text


def as_json(args, started, quotes, sla, extra, http) -> dict:
    t = sla["timings"]
    timings = http["timings"]
    quote_t, const_t = timings[f"GET {QUOTE_URL}"], timings[f"GET {CONSTANT_URL}"]
    engine = "engine add_working_time"
    return {
        "started": started.isoformat(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "versions": versions(),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "quotes": {
            "mix": quotes["mix"].as_dict(),
            "cases": [
                {
                    "catalog": code,
                    "case": label,
                    "total": None if total is None else str(total),
                    "currency": currency,
                    **timing.as_dict(),
                }
                for code, label, total, currency, timing in quotes["cases"]
            ],
        },
        "sla": {
            "calendar": "kbs office",
            "opened_times": sla["count"],
            "days_off": [d.isoformat() for d in sla["peers"].days_off],
            "timings": {name: timing.as_dict() for name, timing in t.items()},
            "ratio_30d_1h": {
                key: t[f"{key} 30d"].us / t[f"{key} 1h"].us for key in (engine, "engine due_at")
            },
            "ratio_limit": SLA_RATIO_LIMIT,
            "engine_over_pandas": {
                span: t[f"{engine} {span}"].us / t[f"pandas CustomBusinessHour {span}"].us
                for span in ("1h", "30d")
            },
            "engine_over_businesstimedelta": {
                span: t[f"{engine} {span}"].us / t[f"businesstimedelta {span}"].us
                for span in ("1h", "30d")
            },
            "cold_first_call_ms": sla["cold_ms"],
            "due_at_mismatches": sla["due_at_mismatches"],
            "cross_checks": [
                {**c, "disagreements": c["disagreements"][:10]} for c in sla["checks"] + extra
            ],
        },
        "http": {
            "quote": quote_t.as_dict(),
            "constant": const_t.as_dict(),
            "same_body": http["same_body"],
            "difference_us": quote_t.us - const_t.us,
            "engine_share": (quote_t.us - const_t.us) / quote_t.us,
            "traced": {name: timing.as_dict() for name, timing in http["traced"].items()},
            "parts_us": http["parts"],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, help="seconds per measurement (default 2, 0.5 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="a short run (about 10 s)")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the figures as JSON: to stdout instead of the table, or to PATH",
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 0.5 if args.quick else 2.0
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    args.rounds = 5 if args.quick else 10
    count = 250 if args.quick else 1000

    def progress(text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)

    started = datetime.now(UTC)
    clock = time.perf_counter()
    catalogs = {name: load_catalog(name) for name in sorted({c[0] for c in QUOTE_CASES})}
    progress("1/3 quotes")
    quotes = bench_quotes(args.seconds, args.rounds, catalogs)
    progress("2/3 SLA due times (engine, pandas, businesstimedelta)")
    sla = bench_sla(args.seconds, args.rounds, count, catalogs)
    extra = cross_checks_elsewhere(catalogs, count)
    progress("3/3 HTTP")
    http = bench_http(args.seconds, args.rounds)
    progress(f"done in {time.perf_counter() - clock:.1f} s")

    if args.json != "-":
        print(report(args, started, quotes, sla, extra, http))
    if args.json:
        document = json.dumps(as_json(args, started, quotes, sla, extra, http), indent=2)
        if args.json == "-":
            print(document)
        else:
            path = Path(args.json)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document + "\n", encoding="utf-8")
            progress(f"JSON written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
