"""A quote request keeps the e-mail the quote goes to and the counts the plan asks for
(cash registers, stores).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("callback_requests") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("counts", sa.JSON(), nullable=False, server_default="{}"))


def downgrade():
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_column("counts")
        batch.drop_column("email")
