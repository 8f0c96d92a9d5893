"""One open call-back request per catalog, phone, plan and name: a second try is the same one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _key(catalog: str, phone: str, kind: str, plan: str | None, name: str) -> str:
    # As portal.callbacks.services.request_key, frozen here as this revision wrote it.
    who = " ".join(name.split()).casefold()
    return hashlib.sha256(f"{catalog}|{phone}|{kind}|{plan or ''}|{who}".encode()).hexdigest()


def upgrade():
    with op.batch_alter_table("callback_requests") as batch:
        batch.add_column(sa.Column("open_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_callback_requests_open_key", ["open_key"])
    # The oldest open request of each phone, kind, plan and name holds the key; later
    # copies stay in the staff list as they were.
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, catalog, phone, kind, plan, name FROM callback_requests "
            "WHERE closed_at IS NULL ORDER BY id"
        )
    )
    taken = set()
    for row in rows.fetchall():
        key = _key(row.catalog, row.phone, row.kind, row.plan, row.name)
        if key in taken:
            continue
        taken.add(key)
        connection.execute(
            sa.text("UPDATE callback_requests SET open_key = :key WHERE id = :id"),
            {"key": key, "id": row.id},
        )


def downgrade():
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_constraint("uq_callback_requests_open_key", type_="unique")
        batch.drop_column("open_key")
