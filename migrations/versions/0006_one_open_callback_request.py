"""One open call-back request per phone, kind and plan: a second try is the same request.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("callback_requests") as batch:
        batch.add_column(sa.Column("open_key", sa.String(length=128), nullable=True))
        batch.create_unique_constraint("uq_callback_requests_open_key", ["open_key"])
    # The oldest open request of each phone, kind and plan holds the key; later copies
    # stay in the staff list as they were.
    op.execute(
        """
        UPDATE callback_requests
        SET open_key = phone || '|' || kind || '|' || COALESCE(plan, '')
        WHERE closed_at IS NULL AND NOT EXISTS (
            SELECT 1 FROM callback_requests AS older
            WHERE older.closed_at IS NULL
              AND older.phone = callback_requests.phone
              AND older.kind = callback_requests.kind
              AND COALESCE(older.plan, '') = COALESCE(callback_requests.plan, '')
              AND older.id < callback_requests.id
        )
        """
    )


def downgrade():
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_constraint("uq_callback_requests_open_key", type_="unique")
        batch.drop_column("open_key")
