"""Rows written a batch at a time, each batch committed with what it causes (its mail), so a
run that stops half-way keeps what it committed and the next goes on from there.

The rows a batch writes are unique in the database (a reminder per period and threshold, a
notice per version and period): a batch that meets another run's rows is rolled back and read
again, and sends only what is left; a run that keeps meeting them leaves the work to the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

Done = TypeVar("Done")
ATTEMPTS = 3


def written_in_batches(
    session: Session,
    read: Callable[[int], Sequence],
    write: Callable[[Sequence], list[Done]],
    last_id: Callable[[Sequence], int],
    what: str,
) -> list[Done]:
    """``read(after_id)`` the next batch (empty: done), ``write(rows)`` it into the session
    (what it wrote), commit; ``last_id(rows)`` is where the next batch starts. Raises
    RuntimeError (the run fails, recorded) when a batch keeps clashing with another run."""
    done: list[Done] = []
    after_id = 0
    while True:
        for _attempt in range(ATTEMPTS):
            rows = read(after_id)
            if not rows:
                return done
            try:
                written = write(rows)
                session.commit()
            except IntegrityError:
                session.rollback()  # another run wrote some of them meanwhile: read again
                continue
            done.extend(written)
            break
        else:
            raise RuntimeError(f"{what} after {after_id} kept clashing with another run")
        after_id = last_id(rows)
