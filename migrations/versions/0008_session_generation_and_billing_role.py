"""Sessions that end at sign-out (a generation per user); invitations name the role to join as.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(
            sa.Column("org_role", sa.String(length=16), nullable=False, server_default="member")
        )


def downgrade():
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("org_role")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
