"""Admins invite the provider's staff and admins by e-mail: an invitation names a staff role
and no organization; one open staff invitation per address.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_role", sa.String(length=16), nullable=True))
        batch_op.alter_column("organization_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            "uq_invitations_open_staff",
            ["email"],
            unique=True,
            sqlite_where=sa.text("accepted_at IS NULL AND organization_id IS NULL"),
            postgresql_where=sa.text("accepted_at IS NULL AND organization_id IS NULL"),
        )


def downgrade():
    op.execute("DELETE FROM invitations WHERE organization_id IS NULL")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("uq_invitations_open_staff")
        batch_op.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("staff_role")
