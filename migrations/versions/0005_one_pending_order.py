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


def upgrade():
    # Orders confirmed twice at once before this index may both await payment. Of each
    # organization's and catalog's pending orders, the one being paid (an invoice issued
    # or a card checkout started; the newest such) stays, else the newest; the others
    # are cancelled and their open invoices void. A card payment that still arrives for a
    # cancelled one is fulfilled all the same, as for any cancelled order.
    connection = op.get_bind()
    pending = connection.execute(
        sa.text(
            "SELECT o.id, o.organization_id, o.catalog, o.stripe_session_id IS NOT NULL"
            " OR EXISTS (SELECT 1 FROM documents d WHERE d.order_id = o.id) AS being_paid"
            " FROM orders o WHERE o.status = 'pending_payment'"
        )
    ).fetchall()
    groups: dict[tuple, list] = {}
    for row in pending:
        groups.setdefault((row.organization_id, row.catalog), []).append(row)
    for rows in groups.values():
        keep = max(rows, key=lambda row: (bool(row.being_paid), row.id))
        for row in rows:
            if row is keep:
                continue
            connection.execute(
                sa.text(
                    "UPDATE documents SET status = 'void'"
                    " WHERE order_id = :id AND kind = 'invoice' AND status = 'open'"
                ),
                {"id": row.id},
            )
            connection.execute(
                sa.text(
                    "UPDATE orders SET status = 'cancelled', closed_at = created_at WHERE id = :id"
                ),
                {"id": row.id},
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
