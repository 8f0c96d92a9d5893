"""Client organizations, their users, e-mail confirmation and invitations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tax_number", sa.String(length=64), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        # en, ru, uk, fa or kk: the language of its mail.
        sa.Column("language", sa.String(length=8), nullable=False),
        # An IANA name.
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Batch mode: SQLite adds a foreign key only by copying the table.
    with op.batch_alter_table("users") as batch:
        # Staff and admins belong to no organization.
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        # owner or member; null for staff.
        batch.add_column(sa.Column("org_role", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            "fk_users_organization_id", "organizations", ["organization_id"], ["id"]
        )
        batch.create_index("ix_users_organization_id", ["organization_id"])
    # Accounts made before were made by the operator (flask users create): confirmed.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        # Stored lower-case.
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        # SHA-256 of the link's token, hex; the token itself is never stored.
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["invited_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_invitations_organization_id", "invitations", ["organization_id"])


def downgrade():
    op.drop_index("ix_invitations_organization_id", table_name="invitations")
    op.drop_table("invitations")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_organization_id")
        batch.drop_constraint("fk_users_organization_id", type_="foreignkey")
        batch.drop_column("email_confirmed_at")
        batch.drop_column("org_role")
        batch.drop_column("organization_id")
    op.drop_table("organizations")
