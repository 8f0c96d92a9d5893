"""The renewal reminder job at 100,000 periods, on PostgreSQL (or SQLite).

Run from the repository root::

    .venv/bin/python bench/remind.py                      # 100,000 periods, PostgreSQL
    .venv/bin/python bench/remind.py --periods 10000      # quicker
    .venv/bin/python bench/remind.py --database sqlite    # the embedded default

Method: a new schema (PostgreSQL at ``TEST_DATABASE_URL``, dropped at the end) or a
temporary SQLite file is migrated; N organizations get an owner and a paid period of
OPTIMA whose ends are spread over the next 30 days, so that every period is due for a
reminder (30, 7 or 1 day), and PostgreSQL's statistics are gathered (ANALYZE, as
autovacuum keeps them). The clock is fixed; ``billing.remind`` then runs as the
worker runs it (``JobRunner.run_by_hand``), with delivery left to the mail job (not
timed). Printed: the seconds the run took, the reminders and outbox mails it wrote,
the SQL statements it sent, and a second run (nothing left to send). The issue asks
for under 10 s at 100,000 periods (PASS/FAIL). Exit status 0 either way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.catalog.current import current_catalog  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import OutboxMail, RenewalReminder  # noqa: E402
from tests.seed import NOW, periods_ending_soon  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
LIMIT_SECONDS = 10.0


@contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-remind-") as tmp:
            yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/portal.sqlite3"}, Path(tmp)
        return
    name = f"bench_remind_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="bench-remind-") as tmp:
            yield (
                {
                    "SQLALCHEMY_DATABASE_URI": PG_URL.replace(
                        "postgresql://", "postgresql+psycopg://", 1
                    ),
                    "SQLALCHEMY_ENGINE_OPTIONS": {
                        "connect_args": {"options": f"-csearch_path={name}"}
                    },
                },
                Path(tmp),
            )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')


def run(app, job: str = "billing.remind") -> tuple[float, int, str]:
    """Run ``job`` as the worker does: its seconds, the SQL statements it sent, its summary."""
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        _run, outcome = app.extensions["jobs"].run_by_hand(job)
        seconds = time.perf_counter() - started
        event.remove(db.engine, "before_cursor_execute", count)
    return seconds, len(statements), outcome.summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=100_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    with database(args.database) as (settings, tmp):
        app = create_app(
            {
                **settings,
                "SECRET_KEY": "bench-remind",
                "INSTANCE_PATH": str(tmp / "instance"),
                "PORTAL_CATALOG": "kbs",
                "CLOCK": lambda: NOW,
                # Delivery is the mail job's, later: this measures the reminder job alone.
                "JOBS_IMMEDIATE": False,
                "JOBS_IN_PROCESS": False,
                "JOBS_SQLITE": str(tmp / "jobs.sqlite3"),
                "PORTAL_URL": "https://portal.example",
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            current_catalog()
            started = time.perf_counter()
            periods_ending_soon(db.session, args.periods, NOW.date())
            if args.database == "postgresql":
                # Statistics as autovacuum keeps them on a database that has these rows.
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            print(
                f"{args.periods:,} periods written in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        seconds, queries, summary = run(app)
        again, queries_again, summary_again = run(app)
        with app.app_context():
            reminders = db.session.scalar(select(func.count()).select_from(RenewalReminder))
            mails = db.session.scalar(select(func.count()).select_from(OutboxMail))
            db.engine.dispose()
    verdict = "PASS" if seconds < LIMIT_SECONDS or args.periods < 100_000 else "FAIL"
    print(
        f"billing.remind, {args.periods:,} periods due, {args.database}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print(f"  first run:  {seconds:6.2f} s, {queries:,} statements: {summary}  {verdict}")
    print(f"  second run: {again:6.2f} s, {queries_again:,} statements: {summary_again}")
    print(f"  written: {reminders:,} reminders, {mails:,} mails in the outbox")
    print(f"  per period: {seconds / args.periods * 1e6:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
