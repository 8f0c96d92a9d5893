"""The tests' PostgreSQL: a throw-away schema in the local test database.

``TEST_DATABASE_URL`` names it (default ``postgresql://postgres@127.0.0.1:5432/test``).
When it cannot be reached the test fails, it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def throwaway_schema(prefix: str = "portal_test") -> Iterator[dict]:
    """The app settings of a new schema of its own, dropped afterwards with all it holds."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is unreachable at {PG_URL}: {error}", pytrace=False)
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
        }
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
