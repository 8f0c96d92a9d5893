"""Staff accounts and call-back requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        # Stored lower-case: the login.
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        # client, staff or admin.
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        # Random, url-safe: the confirmation page's address.
        sa.Column("token", sa.String(length=64), nullable=False),
        # callback or quote.
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("catalog", sa.String(length=64), nullable=False),
        sa.Column("catalog_version", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=True),
        # The comparison's query string the client was looking at.
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        # E.164.
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        # asap, morning, afternoon or evening.
        sa.Column("preferred_time", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # The engine's promise; null when the catalog promises no time.
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    # The staff list: open requests, oldest first.
    op.create_index(
        "ix_callback_requests_open", "callback_requests", ["closed_at", "created_at"]
    )


def downgrade():
    op.drop_index("ix_callback_requests_open", table_name="callback_requests")
    op.drop_table("callback_requests")
    op.drop_table("users")
