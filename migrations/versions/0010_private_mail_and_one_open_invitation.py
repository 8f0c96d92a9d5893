"""Mail that carries a sign-in link is private (its text is dropped once sent); one open
invitation per organization and address.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(
            sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
    connection = op.get_bind()
    # Mail written before this revision that carries a sign-in link is private too.
    connection.execute(
        sa.text(
            "UPDATE mail_outbox SET private = true "
            "WHERE template IN ('confirm_email', 'reset_password', 'invitation')"
        )
    )
    # Of open invitations of one address to one organization, the newest holds the link
    # (inviting again replaced the earlier ones): the older copies go.
    connection.execute(
        sa.text(
            "DELETE FROM invitations WHERE accepted_at IS NULL AND id NOT IN ("
            " SELECT max(id) FROM invitations WHERE accepted_at IS NULL"
            " GROUP BY organization_id, email)"
        )
    )
    op.create_index(
        "uq_invitations_open",
        "invitations",
        ["organization_id", "email"],
        unique=True,
        sqlite_where=sa.text("accepted_at IS NULL"),
        postgresql_where=sa.text("accepted_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_invitations_open", "invitations")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("private")
