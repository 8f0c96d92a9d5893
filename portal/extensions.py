"""Extensions, created once here and bound to the application in ``create_app``."""

import sqlite3

from flask_babel import Babel, lazy_gettext
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, event
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = lazy_gettext("Please sign in to see this page.")
# Limits count per client address; the storage comes from RATELIMIT_STORAGE_URI (Redis:
# one count across every worker and instance). Each request takes its hit on the way in,
# atomically, so a burst of requests at once cannot pass more than the limit.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def give_back_hit() -> None:
    """A request the view refused (a form sent back with a mistake) costs nothing of its
    limits: the hit it took on the way in is given back. While Redis does not answer, the
    hit was counted in this process's memory instead, and is kept: a refused form may
    then cost one try, which is better than a failed request."""
    storage = limiter.storage
    for taken in limiter.current_limits:
        try:
            storage.incr(taken.key, taken.limit.get_expiry(), amount=-1)
        except storage.base_exceptions:
            return


@event.listens_for(Engine, "connect")
def _lower_in_every_alphabet(dbapi_connection, _record) -> None:
    """SQLite's own ``lower`` folds only ASCII: give it Python's, so that searching staff
    lists for "ромашка" finds "ООО Ромашка" on SQLite as on PostgreSQL."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value
