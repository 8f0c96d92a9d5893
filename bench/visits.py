"""A week of free visit slots for 50 technicians, with 100 booked blocks against 10,000, in
PostgreSQL: the booking page's SQL statements and its time.

Run from the repository root (PostgreSQL at ``TEST_DATABASE_URL``, default the local
``test`` database; everything happens in a schema of its own, dropped at the end)::

    .venv/bin/python bench/visits.py                  # ~1 min
    .venv/bin/python bench/visits.py --requests 50    # steadier figures

Method: a new schema is migrated for the Iotex catalog (Tehran, Saturday to Wednesday
09:00-17:00, Iranian holidays); 50 technicians in Tehran; one premium client, and 200
other clients (``tests/seed.py``) whose visits the blocks are. The clock
is Saturday 12 December 2026, 09:30 in Tehran. First 100 booked 4-hour blocks, then
10,000, are written in bulk as bookings write them: spread over the technicians' working
blocks from a year before the clock to a year after it, never overlapping (the exclusion
constraint checks every one), one in five in the week shown. Each time the client asks
``GET /visits/new?hours=4&week=2026-12-19`` (the week's free blocks of every technician,
the price and the quota) with the Flask test client: the SQL statements of one request
are counted and must be the same for both, and the median time of ``--requests``
requests is compared: the target is under 1.5 times the time with 100 blocks.
Exit status 0 either way.
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import upgrade  # noqa: E402
from lists import measure, schema, signed_in  # noqa: E402
from sqlalchemy import delete, func, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.catalog.current import current_catalog  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Technician, Visit  # noqa: E402
from portal.plans.visits import day_blocks, visit_calendar  # noqa: E402
from tests.seed import give_plan, seed  # noqa: E402

NOW = datetime(2026, 12, 12, 6, 0, tzinfo=UTC)
WEEK = date(2026, 12, 19)
TECHNICIANS = 50
PASSWORD = "correct horse battery"
TARGET_RATIO = 1.5
# The booked blocks belong to this many other clients, as they would: a client's own
# visits (its quota) stay a handful.
OTHER_CLIENTS = 200
PAGE = "/visits/new?hours=4&week=2026-12-19"


def build(settings: dict, instance: Path):
    app = create_app(
        {
            **settings,
            "SECRET_KEY": "bench-visits",
            "INSTANCE_PATH": str(instance),
            "PORTAL_CATALOG": "iotex",
            "CLOCK": lambda: NOW,
            "JOBS_IMMEDIATE": False,
            "JOBS_IN_PROCESS": False,
            "JOBS_SQLITE": str(instance / "jobs.sqlite3"),
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def people(session) -> tuple[int, list[int], str]:
    email = "owner@arya.example"
    registration = accounts.Registration(
        organization=accounts.OrganizationProfile(
            name="Arya Co",
            language="en",
            timezone="Asia/Tehran",
            tax_number="10101234567",
            address="Tehran",
        ),
        name="Sara",
        email=email,
        password=PASSWORD,
    )
    owner = accounts.register(session, registration, NOW)
    accounts.confirm_email(session, owner, NOW)
    give_plan(
        session,
        owner.organization_id,
        "premium",
        date(2025, 12, 1),
        date(2027, 11, 30),
        catalog="iotex",
        term="2y",
    )
    technicians = []
    for n in range(TECHNICIANS):
        user = accounts.create_user(
            session,
            email=f"tech{n}@iotex.example",
            name=f"Technician {n}",
            password=PASSWORD,
            role="staff",
            now=NOW,
        )
        row = Technician(user_id=user.id, catalog="iotex", region="area", created_at=NOW)
        session.add(row)
        session.flush()
        technicians.append(row.id)
    session.commit()
    return owner.organization_id, technicians, email


def block_spans(catalog, first: date, last: date):
    calendar = visit_calendar(catalog)
    day = first
    while day <= last:
        yield from day_blocks(calendar, day, 4)
        day += timedelta(days=1)


def book_blocks(session, catalog, clients: list[int], technicians: list[int], count: int) -> None:
    """``count`` booked blocks: a fifth in the week shown, the rest over two years."""
    session.execute(delete(Visit))
    in_week = list(block_spans(catalog, WEEK, WEEK + timedelta(days=6)))
    around = [
        span
        for span in block_spans(catalog, date(2025, 12, 13), date(2027, 12, 11))
        if not WEEK <= span[0].astimezone(ZoneInfo(catalog.timezone)).date() < WEEK + timedelta(7)
    ]
    wanted_in_week = min(count // 5, len(in_week) * len(technicians) - 1)
    slots = list(itertools.product(in_week, technicians))[:wanted_in_week]
    slots += list(itertools.product(around, technicians))[: count - wanted_in_week]
    rows = [
        {
            "catalog": "iotex",
            "organization_id": clients[index % len(clients)],
            "kind": "booked",
            "status": "booked",
            "technician_id": technician,
            "starts_at": start,
            "ends_at": end,
            "hours": 4,
            "region": "area",
            "address": "Tehran",
            "purpose": "Maintenance",
            "covered_hours": 0,
            "periodic_covered": False,
            "uid": f"{secrets.token_hex(12)}@visits",
            "sequence": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for index, ((start, end), technician) in enumerate(slots)
    ]
    session.execute(insert(Visit), rows)
    session.execute(db.text("ANALYZE visits"))
    session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-visits-") as tmp, schema() as settings:
        app = build(settings, Path(tmp))
        with app.app_context():
            catalog = current_catalog()
            _client, technicians, email = people(db.session)
            clients = seed(db.session, OTHER_CLIENTS)
            db.session.commit()
        client = signed_in(app, email)
        for count in (100, 10_000):
            with app.app_context():
                began = time.perf_counter()
                book_blocks(db.session, catalog, clients, technicians, count)
                written = db.session.scalar(select(func.count(Visit.id)))
                print(
                    f"  {written:,} booked blocks written in {time.perf_counter() - began:.1f} s",
                    file=sys.stderr,
                )
            results[count] = measure(app, client, PAGE, args.requests)
        with app.app_context():
            db.engine.dispose()
    moment = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    (few_queries, few_ms), (many_queries, many_ms) = results[100], results[10_000]
    ratio = many_ms / few_ms
    print(f"A week of visit slots, {TECHNICIANS} technicians, PostgreSQL, {moment}")
    print(f"  100 booked blocks:    {few_queries} queries, {few_ms:.1f} ms")
    print(f"  10,000 booked blocks: {many_queries} queries, {many_ms:.1f} ms")
    print(
        f"  queries {'the same' if few_queries == many_queries else 'DIFFER'}; "
        f"time ratio {ratio:.2f} ({'under' if ratio < TARGET_RATIO else 'OVER'} "
        f"the {TARGET_RATIO} target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
