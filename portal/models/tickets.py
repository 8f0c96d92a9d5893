"""Tickets: a client's reported issue, its SLA targets, pauses, conversation and files;
and the personal API tokens that reach them from scripts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import FALSE, Organization, User, UtcDateTime

# new → in_progress → waiting_for_client → resolved → closed; resolved reopens to in_progress.
TICKET_STATUSES = ("new", "in_progress", "waiting_for_client", "resolved", "closed")
OPEN_STATUSES = ("new", "in_progress", "waiting_for_client")
# Statuses whose clocks stand still: waiting for the client, and resolved (until reopened).
PAUSING_STATUSES = {"waiting_for_client": "waiting", "resolved": "resolved"}


class Ticket(db.Model):
    """A problem an organization reported, or a proposal it made.

    ``opened_at`` is the registration time the clocks start from: when the
    client sent it, or the time of the call for a ticket staff filed for a client
    who phoned (``filed_by``). ``plan`` is the plan whose promises it runs, from
    ``catalog`` version ``catalog_version`` (None: no SLA). ``next_due_at`` is the
    nearest due time of its running targets (None while paused or when nothing
    runs): the staff queue's order. ``breached_at``: when a target first breached.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        # The queue: by nearest due time (read in order, a page at a time), or of one status;
        # the client's list: newest first.
        Index("ix_tickets_queue", "next_due_at", "opened_at", "id"),
        Index("ix_tickets_status_next_due", "status", "next_due_at", "id"),
        Index("ix_tickets_organization_opened", "organization_id", "opened_at", "id"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        # The auto-close job: resolved tickets by when they were resolved.
        Index("ix_tickets_resolved", "status", "resolved_at"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_tickets_rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    catalog: Mapped[str] = mapped_column(String(64))
    catalog_version: Mapped[int]
    plan: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    claimed_target: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    remote_access: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), default="new")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Crystals' defect path: confirmed (the fix-date target starts), the fix date recorded.
    defect_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    fix_date: Mapped[date | None] = mapped_column(Date)
    fix_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A filing form's own key (or an API call's Idempotency-Key): sent twice, one ticket.
    submission_key: Mapped[str | None] = mapped_column(String(100), unique=True)

    organization: Mapped[Organization] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    targets: Mapped[list[TicketTarget]] = relationship(
        back_populates="ticket", order_by="TicketTarget.position", cascade="all, delete-orphan"
    )
    pauses: Mapped[list[TicketPause]] = relationship(
        back_populates="ticket", order_by="TicketPause.started_at", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def open_pause(self) -> TicketPause | None:
        return next((p for p in self.pauses if p.ended_at is None), None)

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.status} {self.title!r}>"


class TicketTarget(db.Model):
    """One SLA target a ticket runs, from ``started_at`` (its opening, or a defect's
    confirmation). ``due_at`` and ``warn_at`` are the engine's last answer, kept for the
    queue and the sweep (exact while the ticket runs; the pages ask the engine again).
    ``met_at``: met (cleared when a resolved ticket reopens); ``warned_at`` and
    ``breached_at``: the sweep's warning and breach, each announced once."""

    __tablename__ = "ticket_targets"
    __table_args__ = (
        UniqueConstraint("ticket_id", "target", name="uq_ticket_targets_ticket_target"),
        # The sweep: unmet targets whose breach or warning time has come.
        Index(
            "ix_ticket_targets_due",
            "due_at",
            sqlite_where=text("met_at IS NULL AND breached_at IS NULL"),
            postgresql_where=text("met_at IS NULL AND breached_at IS NULL"),
        ),
        Index(
            "ix_ticket_targets_warn",
            "warn_at",
            sqlite_where=text("met_at IS NULL AND warned_at IS NULL"),
            postgresql_where=text("met_at IS NULL AND warned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    warn_at: Mapped[datetime] = mapped_column(UtcDateTime())
    met_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="targets")

    def __repr__(self) -> str:
        return f"<TicketTarget {self.ticket_id} {self.target}>"


class TicketPause(db.Model):
    """A time a ticket's clocks stood still: ``waiting`` for the client, or ``resolved``
    until it was reopened. Kept after it ends: dues are computed from the whole history."""

    __tablename__ = "ticket_pauses"
    __table_args__ = (
        Index("ix_ticket_pauses_ticket", "ticket_id", "started_at"),
        # One open pause per ticket, even when two clicks race.
        Index(
            "uq_ticket_pauses_open",
            "ticket_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="pauses")


class TicketMessage(db.Model):
    """A message of a ticket's conversation: the client's, a staff reply, or (``internal``)
    a staff note the client never sees. ``event`` marks a status change said in words."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket", "ticket_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    from_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    event: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The reply form's key: the same form sent twice (a double click) adds one message.
    submission_key: Mapped[str | None] = mapped_column(String(100), unique=True)

    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="message", order_by="TicketAttachment.id"
    )


class TicketAttachment(db.Model):
    """A file sent with a ticket or a message. The content lives on disk under
    ``TICKET_FILES_DIR`` as ``stored_name`` (random), never under ``static/``;
    ``filename`` is the sender's name made safe, ``mime_type`` read from the content."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (Index("ix_ticket_attachments_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE")
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    message: Mapped[TicketMessage | None] = relationship(back_populates="attachments")


class ApiToken(db.Model):
    """A personal API token: only its SHA-256 is kept (``token_hash``), and its first
    characters (``prefix``) to tell tokens apart. It acts as its user: a client's sees
    the user's organization, a staff member's sees all. Revoked tokens are refused."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()
