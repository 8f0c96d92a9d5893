"""One row read afresh and locked until the commit, on either database.

PostgreSQL locks the row (``SELECT ... FOR UPDATE``). SQLite has no row locks and reads
without any lock, so a write that changes nothing comes first: it takes the database's
one write lock, which another use case then waits for, and reads what the first one
committed. Use cases that count or decide something per row (an order paid once, an
organization's connections this month, a visit moved once) take it first.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def locked_row(session: Session, model: type[Row], row_id: int) -> Row:
    """Row ``row_id`` of ``model``, read afresh and locked until the commit."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(model)
            .where(model.id == row_id)
            .values(id=model.id)
            .execution_options(synchronize_session=False)
        )
    return session.scalars(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
