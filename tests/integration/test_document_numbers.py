"""Invoice numbers on PostgreSQL: concurrent transactions take consecutive numbers, no gaps.

The counter row is locked (SELECT ... FOR UPDATE) in the document's own transaction: a
second transaction waits for the first, and a transaction that rolls back gives its number
to the next one. This is PostgreSQL's behaviour to prove (production runs on it), so the
test has a PostgreSQL database of its own, in a throw-away schema, like the suite's.
"""

from __future__ import annotations

import threading
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.billing.documents import next_number
from portal.extensions import db
from portal.models import DocumentSequence
from tests.postgres import throwaway_schema


@pytest.fixture
def pg_app():
    with throwaway_schema("portal_numbers") as settings:
        app = create_app({"TESTING": True, "SECRET_KEY": "test", **settings})
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


def test_concurrent_invoices_take_consecutive_numbers_and_a_rollback_leaves_no_gap(pg_app):
    outcomes = ["commit", "rollback"] * 4 + ["commit"] * 4  # 12 transactions, 4 fail
    start = threading.Barrier(len(outcomes))
    committed: list[str] = []
    lock = threading.Lock()

    def issue(outcome: str) -> None:
        with pg_app.app_context():
            start.wait()
            number = next_number(db.session, "invoice")
            time.sleep(0.02)  # hold the counter's lock: the others queue behind it
            if outcome == "commit":
                db.session.commit()
                with lock:
                    committed.append(number)
            else:
                db.session.rollback()  # the mail server was down, say: the number is free again

    threads = [threading.Thread(target=issue, args=(outcome,)) for outcome in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(committed) == [f"INV-{n:06d}" for n in range(1, 9)]
    with pg_app.app_context():
        counter = db.session.scalars(
            select(DocumentSequence).where(DocumentSequence.kind == "invoice")
        ).one()
        assert counter.last_number == 8
