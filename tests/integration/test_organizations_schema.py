"""Migration 0003: organizations, client users and invitations, as the models describe them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db

ORGANIZATION_TABLES = {"organizations", "invitations", "users"}


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_migration_0003_confirms_the_accounts_made_before_and_goes_back(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        }
    )
    created = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (email, name, password_hash, role, created_at, active)"
                    " VALUES ('staff@example.com', 'Olena', 'x', 'staff', :created, 1)"
                ),
                {"created": created.replace(tzinfo=None)},
            )
        upgrade()
        with db.engine.connect() as connection:
            confirmed = connection.execute(sa.text("SELECT email_confirmed_at FROM users")).scalar()
            tables = set(sa.inspect(connection).get_table_names())
        assert str(confirmed).startswith("2026-11-01 08:00:00")
        assert tables >= ORGANIZATION_TABLES
        downgrade(revision="0002")
        with db.engine.connect() as connection:
            inspector = sa.inspect(connection)
            tables = set(inspector.get_table_names())
            columns = {column["name"] for column in inspector.get_columns("users")}
            count = connection.execute(sa.text("SELECT count(*) FROM users")).scalar()
        assert "organizations" not in tables and "invitations" not in tables
        assert "organization_id" not in columns
        assert count == 1
        db.engine.dispose()
