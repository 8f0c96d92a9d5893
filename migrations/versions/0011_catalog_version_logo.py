"""A catalog version keeps its provider's logo (the file beside the catalog when it was
published).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_versions") as batch:
        batch.add_column(sa.Column("logo_name", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("catalog_versions") as batch:
        batch.drop_column("logo")
        batch.drop_column("logo_name")
