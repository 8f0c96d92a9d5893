"""The catalog draft: what one cell save costs, and the renewal price notices at 10,000 periods.

Run from the repository root::

    .venv/bin/python bench/catalog_draft.py                     # 10,000 periods, PostgreSQL
    .venv/bin/python bench/catalog_draft.py --periods 1000      # quicker
    .venv/bin/python bench/catalog_draft.py --database sqlite   # the embedded default

Method. **A cell save** (pure, no database): for each bundled catalog, one price of its
first plan is set in the TOML text (tomlkit, comments and layout kept), the whole text is
validated as a catalog file is (``parse_catalog``) and the change listed against the
original (``diff``): what ``drafts.save_values`` does besides its two statements and the
commit. The median of 50 rounds is printed. **The notices**: a new schema (PostgreSQL at
``TEST_DATABASE_URL``, dropped at the end) or a temporary SQLite file is migrated; N
organizations get an owner and a paid 7-month OPTIMA period ending within 30 days (the
reminders benchmark's data); a version raising OPTIMA's 7-month price from 40,740 to
44,000 UAH is published; ``billing.price-notices`` then runs as the worker runs it, every
period priced for renewal by both versions and told once. Printed: seconds, statements,
notices and mails, and a second run (nothing left to tell). Exit status 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.remind import database, run  # noqa: E402
from portal import create_app  # noqa: E402
from portal.catalog import services  # noqa: E402
from portal.catalog.current import current_catalog  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import OutboxMail, PriceChangeNotice  # noqa: E402
from portal.plans import editing, parse_catalog  # noqa: E402
from portal.plans.loading import BUNDLED_FILES, CATALOG_DIR  # noqa: E402
from tests.seed import NOW, periods_ending_soon  # noqa: E402

ROUNDS = 50


def cell_saves() -> list[tuple[str, float, int]]:
    """(catalog, median ms of one cell save's work, size of its text)."""
    found = []
    for path in sorted(CATALOG_DIR.glob("*.toml")):
        source = path.read_text(encoding="utf-8")
        data = editing.read(source)
        plan = editing.plan_codes(data)[0]
        cell = f"plans.{plan}.percent"
        for grid in editing.grids(data):
            row = next((r for r in grid.rows if (r, plan) in grid.cells), None)
            if row is not None and isinstance(grid.cells[(row, plan)], int | float):
                cell = grid.path(row, plan)
                break
        times = []
        for n in range(ROUNDS):
            started = time.perf_counter()
            value = Decimal(10 + n % 50) if cell.endswith(".percent") else Decimal(1000 + n)
            edited = editing.set_values(source, {cell: value})
            parse_catalog(edited, files=BUNDLED_FILES)
            editing.diff(source, edited)
            times.append(time.perf_counter() - started)
        found.append((path.stem, statistics.median(times) * 1000, len(source)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=10_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    print(f"catalog draft, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("  one cell save's work (set the value, validate the catalog, list the change):")
    for name, ms, size in cell_saves():
        print(f"    {name:11} {ms:6.1f} ms  ({size:,} characters of TOML)")
    with database(args.database) as (settings, tmp):
        app = create_app(
            {
                **settings,
                "SECRET_KEY": "bench-draft",
                "INSTANCE_PATH": str(tmp / "instance"),
                "PORTAL_CATALOG": "kbs",
                "CLOCK": lambda: NOW,
                "JOBS_IMMEDIATE": False,
                "JOBS_IN_PROCESS": False,
                "JOBS_SQLITE": str(tmp / "jobs.sqlite3"),
                "PORTAL_URL": "https://portal.example",
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            current_catalog()
            periods_ending_soon(db.session, args.periods, NOW.date())
            if args.database == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            source = (CATALOG_DIR / "kbs.toml").read_text(encoding="utf-8")
            raised = editing.set_values(source, {"plans.optima.terms.7m": Decimal(44000)})
            services.publish(db.session, raised, "bench", NOW)
        seconds, queries, summary = run(app, "billing.price-notices")
        again, queries_again, summary_again = run(app, "billing.price-notices")
        with app.app_context():
            told = db.session.scalar(select(func.count()).select_from(PriceChangeNotice))
            mails = db.session.scalar(select(func.count()).select_from(OutboxMail))
            db.engine.dispose()
    print(f"  billing.price-notices, {args.periods:,} periods, {args.database}:")
    print(f"    first run:  {seconds:6.2f} s, {queries:,} statements: {summary}")
    print(f"    second run: {again:6.2f} s, {queries_again:,} statements: {summary_again}")
    print(f"    written: {told:,} notices, {mails:,} mails in the outbox")
    print(f"    per period: {seconds / max(args.periods, 1) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
