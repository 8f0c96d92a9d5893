"""``/healthz`` and ``/readyz``, for the load balancer and the service manager.

``/healthz`` says the process answers, and asks nothing else. ``/readyz`` says
whether this instance can serve: the database answers and its schema is at the
newest migration (a deploy that has not run ``flask db upgrade`` yet is not
ready). Neither reads the session, the user or the catalog, so neither costs a
query more than it says.
"""

from __future__ import annotations

import functools

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db

bp = Blueprint("health", __name__)


@functools.cache
def newest_revisions(directory: str) -> frozenset[str]:
    """The head revisions of the migrations in ``directory`` (read once per process)."""
    return frozenset(ScriptDirectory(directory).get_heads())


def _no_store(document: dict, status: int):
    return document, status, {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    """200 while the process lives."""
    return _no_store({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz():
    """200 when the database answers at the newest schema; 503 with the reason otherwise."""
    newest = newest_revisions(current_app.extensions["migrate"].directory)
    try:
        with db.engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        # The driver's words (host, port, user) go to the log, not to whoever asks.
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        current_app.logger.warning("not ready: the database does not answer: %s", reason)
        return _no_store(
            {"status": "unavailable", "reason": "database: it does not answer (see the log)"}, 503
        )
    if current != newest:
        return _no_store(
            {
                "status": "unavailable",
                "reason": (
                    f"the database schema is at {', '.join(sorted(current)) or 'nothing'}, the "
                    f"newest is {', '.join(sorted(newest))}: run 'flask --app app db upgrade'"
                ),
            },
            503,
        )
    return _no_store({"status": "ready", "schema": ", ".join(sorted(newest))}, 200)
