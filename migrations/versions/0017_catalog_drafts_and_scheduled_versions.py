"""Catalog drafts edited in the admin area, versions scheduled to take effect later, and the
notices of renewal prices that change with a version.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # Every version published so far took effect when it was published.
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE catalog_versions SET effective_at = published_at")
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.alter_column("effective_at", nullable=False)

    op.create_table(
        "catalog_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("logo_name", sa.String(length=255), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "price_change_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["period_id"], ["subscription_periods.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["catalog_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "period_id", name="uq_price_change_notices"),
    )


def downgrade():
    op.drop_table("price_change_notices")
    op.drop_table("catalog_drafts")
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.drop_column("effective_at")
