"""Indexes for the staff lists: invoices by state and date; on PostgreSQL, trigram indexes
that serve their searches (column ILIKE '%word%') over many rows.

pg_trgm is a trusted extension (PostgreSQL 13 and later): a database owner may create it.
Where it cannot be created, the searches still work, only slower, and the upgrade says so.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import logging

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
# What the staff lists search, table by table (portal.listing.matching and its callers).
SEARCHED = {
    "organizations": ("name", "tax_number"),
    "users": ("email",),
    "callback_requests": ("name", "phone", "company"),
    "documents": ("number", "bill_to_name", "bill_to_tax_number"),
}
# Not the outbox: 100,000 reminders a day write as many mails, and a GIN index on their
# texts would cost each insert more than the searches it saves.


def upgrade():
    op.create_index(
        "ix_documents_kind_status_due", "documents", ["kind", "status", "due_on", "id"]
    )
    op.create_index(
        "ix_documents_kind_status_paid", "documents", ["kind", "status", "paid_at", "id"]
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            # In public, where it outlives any other schema (the tests' throw-away ones).
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except DBAPIError as error:
        log.warning("pg_trgm cannot be created (%s): searches of long lists stay slow", error.orig)
        return
    # Wherever the extension lives (made before, elsewhere): its operator class, by name.
    schema = bind.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
    ).scalar_one()
    for table, columns in SEARCHED.items():
        for column in columns:
            op.execute(
                f"CREATE INDEX ix_trgm_{table}_{column} ON {table} "
                f'USING gin ({column} "{schema}".gin_trgm_ops)'
            )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, columns in SEARCHED.items():
            for column in columns:
                op.execute(f"DROP INDEX IF EXISTS ix_trgm_{table}_{column}")
    op.drop_index("ix_documents_kind_status_paid", "documents")
    op.drop_index("ix_documents_kind_status_due", "documents")
