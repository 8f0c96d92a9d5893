"""The audit log: what admins and staff did to money, accounts and the catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models import UtcDateTime


class AuditEntry(db.Model):
    """One action: who (``actor_id``, and ``actor`` as they were named then: an e-mail, or
    ``command line``), when, what (``action``: ``invoice.paid``, ``order.refunded``,
    ``catalog.published``, ``user.created``), on what (``subject``: ``INV-000001``), for
    which organization, and the values before and after (JSON objects). Written in the
    transaction of the action itself, so an action and its entry stand or fall together;
    never changed after."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    before: Mapped[str] = mapped_column(Text, default="{}")
    after: Mapped[str] = mapped_column(Text, default="{}")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.subject}>"
