"""One order of a catalog awaits payment per organization, enforced by the database.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending_payment'")
DUPLICATE = """
    status = 'pending_payment' AND EXISTS (
        SELECT 1 FROM orders AS older
        WHERE older.organization_id = orders.organization_id
          AND older.catalog = orders.catalog
          AND older.status = 'pending_payment'
          AND older.id < orders.id
    )
"""


def upgrade():
    # Orders confirmed twice at once before this index may both await payment: the newer
    # ones are cancelled and their open invoices void (a card payment that still arrives
    # for one is fulfilled all the same, as for any cancelled order).
    op.execute(
        f"""
        UPDATE documents SET status = 'void'
        WHERE kind = 'invoice' AND status = 'open'
          AND order_id IN (SELECT id FROM orders WHERE {DUPLICATE})
        """
    )
    op.execute(
        f"UPDATE orders SET status = 'cancelled', closed_at = created_at WHERE {DUPLICATE}"
    )
    op.create_index(
        "uq_orders_one_pending",
        "orders",
        ["organization_id", "catalog"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade():
    op.drop_index("uq_orders_one_pending", table_name="orders")
