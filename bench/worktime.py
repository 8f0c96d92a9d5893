"""The month-end job over 10,000 organizations and 100,000 time entries, in PostgreSQL; and the
account page's queries with 10 time entries against 1,000.

Run from the repository root (PostgreSQL at ``TEST_DATABASE_URL``, default the local
``test`` database; everything happens in a schema of its own, dropped at the end)::

    .venv/bin/python bench/worktime.py                         # 10,000 / 100,000, ~2 min
    .venv/bin/python bench/worktime.py --organizations 1000    # quicker

Method: a new schema is migrated; ``tests/seed.py`` writes the organizations (each with
its owner, tax number and address, so each extra-time order gets an invoice); each gets
an OPTIMA period from 1 November 2026 (3 hours included a month) and ten billable
entries of 20 to 69 minutes worked in November, written in bulk as staff log them;
every fifth organization has 5 prepaid hours. The clock is then 1 December 2026 and the
month-end settlement runs as the job runs it (``portal.work.settlement.settle_month``:
split, priced by the engine, orders, invoices numbered, a mail per paying user to the
outbox table), timed; then again, which must find nothing to do. The target: under 30
seconds. Then two organizations, one with 10 entries in December and one with 1,000,
have their account page and time page asked with the Flask test client: the SQL
statements of one request are counted, and must be the same for both.
Exit status 0 either way.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import upgrade  # noqa: E402
from lists import measure, schema, signed_in  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402

from portal import create_app  # noqa: E402
from portal.billing.presentation import labels_for  # noqa: E402
from portal.catalog.current import current_catalog  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Document,
    DocumentSequence,
    HourCredit,
    Order,
    OutboxMail,
    SubscriptionPeriod,
    TimeEntry,
    User,
)
from portal.work import settlement  # noqa: E402
from portal.work.presentation import extra_time_mails, extra_time_titles  # noqa: E402
from tests.seed import NOW, seed  # noqa: E402

ENTRIES_PER_ORGANIZATION = 10
TARGET_SECONDS = 30
BATCH = 20_000
DECEMBER_FIRST = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)


def build(settings: dict, instance: Path, clock):
    app = create_app(
        {
            **settings,
            "SECRET_KEY": "bench-worktime",
            "INSTANCE_PATH": str(instance),
            "PORTAL_CATALOG": "kbs",
            "PORTAL_URL": "https://portal.example",
            "CLOCK": clock,
            # Mail stays in the outbox table: the settlement is measured, not the delivery.
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


def write(session, organizations: int) -> list[int]:
    ids = seed(session, organizations)
    # The seed numbers its invoices itself: the counter starts after them, as it would have.
    session.execute(
        update(DocumentSequence)
        .where(DocumentSequence.kind == "invoice")
        .values(last_number=organizations)
    )
    orders = dict(
        session.execute(
            select(Order.organization_id, Order.id).where(Order.organization_id.in_(ids))
        ).all()
    )
    session.execute(
        insert(SubscriptionPeriod),
        [
            {
                "organization_id": org,
                "order_id": orders[org],
                "catalog": "kbs",
                "plan": "optima",
                "term": "12m",
                "start": NOVEMBER,
                "end": date(2027, 10, 31),
                "created_at": NOW,
            }
            for org in ids
        ],
    )
    session.execute(
        insert(HourCredit),
        [
            {"organization_id": org, "catalog": "kbs", "minutes": 300, "created_at": NOW}
            for org in ids[::5]
        ],
    )
    rows = [
        {
            "organization_id": org,
            "catalog": "kbs",
            "worked_on": date(2026, 11, 1 + (n * 3 + k) % 30),
            "minutes": 20 + (n * 7 + k * 13) % 50,
            "description": "Closing the month: the ledgers did not balance",
            "billable": True,
            "created_at": NOW,
        }
        for n, org in enumerate(ids)
        for k in range(ENTRIES_PER_ORGANIZATION)
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(TimeEntry), rows[start : start + BATCH])
    session.commit()
    return ids


def entries_in_december(session, organization: int, count: int) -> None:
    session.execute(
        insert(TimeEntry),
        [
            {
                "organization_id": organization,
                "catalog": "kbs",
                "worked_on": date(2026, 12, 1),
                "minutes": 15,
                "description": "Consultation",
                "billable": True,
                "created_at": DECEMBER_FIRST,
            }
            for _ in range(count)
        ],
    )
    session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organizations", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-worktime-") as tmp, schema() as settings:
        app = build(settings, Path(tmp), lambda: DECEMBER_FIRST)
        with app.app_context():
            catalog = current_catalog()
            began = time.perf_counter()
            ids = write(db.session, args.organizations)
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
            entries = db.session.scalar(select(func.count(TimeEntry.id)))
            print(
                f"  {len(ids):,} organizations, {entries:,} entries written in "
                f"{time.perf_counter() - began:.1f} s",
                file=sys.stderr,
            )
            runs = []
            for _ in range(2):
                with app.test_request_context():
                    began = time.perf_counter()
                    settled = settlement.settle_month(
                        db.session,
                        catalog,
                        NOVEMBER,
                        today=date(2026, 12, 1),
                        now=DECEMBER_FIRST,
                        labels=labels_for(catalog, None),
                        titles=extra_time_titles(catalog),
                        due_days=10,
                        mails=extra_time_mails,
                        outbox=app.extensions["outbox"],
                    )
                    runs.append((time.perf_counter() - began, len(settled)))
            orders = db.session.scalar(select(func.count(Order.id)).where(Order.kind == "time"))
            invoices = db.session.scalar(
                select(func.count(Document.id)).where(Document.kind == "invoice")
            )
            mails = db.session.scalar(select(func.count(OutboxMail.id)))
            total = db.session.scalar(select(func.sum(Order.total)).where(Order.kind == "time"))
            few, many = ids[0], ids[1]
            entries_in_december(db.session, few, 10)
            entries_in_december(db.session, many, 1000)
            emails = dict(
                db.session.execute(
                    select(User.organization_id, User.email).where(
                        User.organization_id.in_([few, many])
                    )
                ).all()
            )
        pages = {}
        for label, organization in (("10 entries", few), ("1,000 entries", many)):
            client = signed_in(app, emails[organization])
            pages[label] = {
                path: measure(app, client, path, args.requests)
                for path in ("/account", "/account/time")
            }
        with app.app_context():
            db.engine.dispose()
    moment = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    first, second = runs
    verdict = "under" if first[0] < TARGET_SECONDS else "OVER"
    print(f"Month end, PostgreSQL, {moment}")
    print(
        f"  {args.organizations:,} organizations, {entries:,} entries: settled in "
        f"{first[0]:.1f} s ({verdict} the {TARGET_SECONDS} s target): {first[1]:,} settlements, "
        f"{orders:,} extra-time orders ({total:,} UAH), {invoices - args.organizations:,} "
        f"invoices, {mails:,} mails"
    )
    print(f"  run again: {second[0]:.2f} s, {second[1]} settlements (nothing new)")
    print(f"  {'page':16} {'queries':>20} {'ms':>20}")
    print(f"  {'':16} {'10 / 1,000 entries':>20} {'10 / 1,000 entries':>20}")
    for path in ("/account", "/account/time"):
        (q1, t1), (q2, t2) = pages["10 entries"][path], pages["1,000 entries"][path]
        print(f"  {path:16} {f'{q1} / {q2}':>20} {f'{t1:.1f} / {t2:.1f}':>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
