"""Fixtures shared by the web and integration tests: the app on SQLite and on PostgreSQL.

Every test that takes ``app`` (or ``client``, ``runner``, ``session``) runs
twice, once per database. PostgreSQL is the local test database
(``TEST_DATABASE_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``);
each test session works in a schema of its own and drops it at the end. When
PostgreSQL cannot be reached the PostgreSQL tests fail, they never skip; set
``TEST_DATABASES=sqlite`` to run SQLite alone on a machine without it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.accounts import services as accounts
from portal.catalog import services
from portal.extensions import db
from tests.postgres import throwaway_schema

# A Stripe-compatible server (localstripe with a Checkout extension) on loopback.
pytest_plugins = ["tests.stripe_server.fixtures"]

# Every app the tests build keeps its files (compiled translations, a generated key, mail,
# the job queue) in a folder of this run's, never in the checkout's instance/.
_INSTANCE = tempfile.mkdtemp(prefix="portal-tests-")
os.environ["INSTANCE_PATH"] = _INSTANCE
atexit.register(shutil.rmtree, _INSTANCE, True)

# Passwords are hashed with scrypt, as in production, at a cost of 2^10 rather than 2^15: a
# hash takes 4 ms instead of 140, and the suite signs people in thousands of times.
accounts.PASSWORD_METHOD = "scrypt:1024:8:1"

FIXED_NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DATABASES = [d for d in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if d]


@pytest.fixture(scope="session", params=DATABASES)
def database(request, tmp_path_factory):
    """A migrated database for the session: its URL and engine options."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "portal.sqlite3"
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
        yield from _migrated(settings)
        return
    with throwaway_schema() as settings:
        yield from _migrated(settings)


def _migrated(settings: dict):
    app = create_app(_test_config(settings))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield settings


def _test_config(settings: dict, **overrides) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "CLOCK": lambda: FIXED_NOW,
        "PORTAL_CATALOG": "kbs",
        "CATALOG_REFRESH_SECONDS": 0,
        # Jobs run where they are asked for, in the test's own thread: mail is delivered
        # (to the test's outbox folder) as soon as the transaction that wrote it commits.
        "JOBS_IMMEDIATE": True,
        "JOBS_IN_PROCESS": False,
        **settings,
        **overrides,
    }


@pytest.fixture
def make_app(database):
    """Build an app on the session's database with settings of the test's choosing."""
    apps = []

    def make(**overrides):
        app = create_app(_test_config(database, **overrides))
        apps.append(app)
        return app

    yield make
    # Empty every table (Core DELETE: published versions refuse ORM deletes by design), with
    # an app on the session's database (a test may have built one on another, or none).
    on_session_database = [
        app for app in apps if all(app.config.get(k) == v for k, v in database.items())
    ]
    if not on_session_database:
        on_session_database = [create_app(_test_config(database))]
        apps.extend(on_session_database)  # its connections are closed with the others'
    for app in on_session_database[:1]:
        with app.app_context(), db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(sa.delete(table))
    services.forget_newest()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session
