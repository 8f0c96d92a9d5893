"""Staff lists and the account page at 100 and at 10,000 organizations, on PostgreSQL.

Run from the repository root (PostgreSQL at ``TEST_DATABASE_URL``, default the local
``test`` database; everything happens in a schema of its own, dropped at the end)::

    .venv/bin/python bench/lists.py                # 100 and 10,000 organizations, ~2 min
    .venv/bin/python bench/lists.py --sizes 100 1000 --requests 10   # quicker

Method: for each size, a new schema is migrated and filled by ``tests/seed.py`` (each
organization with its owner, an open call-back request, an order awaiting payment and
its open invoice), and one organization gets 1,000 orders more (paid, each with its
period and receipt). A staff member and that organization's owner are signed in with
the Flask test client; each page is asked once to warm up, then ``--requests`` times:
the median time per request, and the SQL statements of one request counted on the
engine. The lists must run as many queries at 10,000 organizations as at 100, in at
most 1.5 times the time (PASS/FAIL beside each). Exit status 0 either way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.catalog.current import current_catalog  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests.seed import NOW, orders_of, seed  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PAGES = [
    ("staff: organizations", "/staff/organizations"),
    ("staff: call-back requests", "/staff/callbacks"),
    ("staff: invoices awaiting payment", "/staff/invoices"),
    ("staff: invoices paid", "/staff/invoices?status=paid"),
    ("staff: outbox", "/staff/outbox"),
    ("account with 1,000 orders", "ACCOUNT"),
]
# A search reads what matches, and more of it in a longer list: its time is shown, without
# the 1.5 times rule (trigram indexes serve it on PostgreSQL once the list is long).
SEARCHES = [
    ("search: an organization by e-mail", "/staff/organizations?q=owner77%40example"),
    ("search: an invoice by number", "/staff/invoices?q=INV-000077"),
    ("search: a call-back by phone", "/staff/callbacks?q=0000077"),
]
RATIO_LIMIT = 1.5
BIG_ORGANIZATION_ORDERS = 1000


@contextmanager
def schema():
    name = f"bench_lists_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={name}"}},
        }
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')


def build(settings: dict, instance: Path):
    app = create_app(
        {
            **settings,
            "SECRET_KEY": "bench-lists",
            "INSTANCE_PATH": str(instance),
            "PORTAL_CATALOG": "kbs",
            "CLOCK": lambda: NOW,
            "JOBS_IMMEDIATE": True,
            "JOBS_IN_PROCESS": False,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def signed_in(app, email: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = html.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": "correct horse battery"}
    )
    assert answer.status_code == 303, answer.status_code
    return client


def measure(app, client, path: str, requests: int) -> tuple[int, float]:
    """(queries of one request, median ms per request)."""
    assert client.get(path).status_code == 200, path
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return len(statements), statistics.median(times)


def run_size(organizations: int, requests: int, instance: Path) -> dict[str, tuple[int, float]]:
    with schema() as settings:
        app = build(settings, instance)
        started = time.perf_counter()
        with app.app_context():
            current_catalog()
            ids = seed(db.session, organizations)
            orders_of(db.session, ids[0], BIG_ORGANIZATION_ORDERS)
            accounts.create_user(
                db.session,
                email="desk@example.com",
                name="Desk",
                password="correct horse battery",
                role="staff",
                now=NOW,
            )
            owner = f"owner{ids[0]}@example.com"  # the seed names owners by their number
        print(
            f"  {organizations:,} organizations written in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        staff = signed_in(app, "desk@example.com")
        client_of_big = signed_in(app, owner)
        results = {}
        for label, path in PAGES + SEARCHES:
            if path == "ACCOUNT":
                results[label] = measure(app, client_of_big, "/account", requests)
            else:
                results[label] = measure(app, staff, path, requests)
        with app.app_context():
            db.engine.dispose()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[100, 10_000])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    import tempfile

    small, large = args.sizes
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as tmp:
        figures = {}
        for size in (small, large):
            print(f"size {size:,}", file=sys.stderr)
            figures[size] = run_size(size, args.requests, Path(tmp) / "instance")
    moment = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"Staff lists and the account page, PostgreSQL, {moment}, "
        f"median of {args.requests} requests (Flask test client)"
    )
    header = f"  {'page':36} {'queries':>15} {'ms':>20} {'time ratio':>11}"
    print(header)
    print(f"  {'':36} {f'{small:,} / {large:,}':>15} {f'{small:,} / {large:,}':>20}")
    for label, _path in PAGES + SEARCHES:
        (q_small, ms_small), (q_large, ms_large) = figures[small][label], figures[large][label]
        ratio = ms_large / ms_small
        verdict = "PASS" if q_small == q_large and ratio <= RATIO_LIMIT else "FAIL"
        if label.startswith("search"):
            verdict = "(shown)" if q_small == q_large else "FAIL"
        print(
            f"  {label:36} {f'{q_small} / {q_large}':>15} "
            f"{f'{ms_small:.1f} / {ms_large:.1f}':>20} {ratio:>10.2f}  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
