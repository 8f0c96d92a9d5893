"""Time that is counted and paid: time entries, month settlements, prepaid hours, remote
connections and sessions, acts of completed work, and the monthly report's recipients."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

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
from portal.models import FALSE, Money, Order, Organization, User, UtcDateTime


class TimeEntry(db.Model):
    """Work a staff member did for an organization: on a ticket, a remote session, or neither.

    ``worked_on`` is the day in the catalog's zone; the month it falls in decides which
    included hours it uses. A billable entry is settled once, by the month-end job
    (``settlement_id``); one logged after its month was settled goes into the next one.
    """

    __tablename__ = "time_entries"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="ck_time_entries_minutes"),
        Index("ix_time_entries_organization_day", "organization_id", "worked_on"),
        Index("ix_time_entries_ticket", "ticket_id"),
        Index("ix_time_entries_session", "session_id"),
        # The month-end job reads what is not settled yet.
        Index(
            "ix_time_entries_open",
            "catalog",
            "worked_on",
            sqlite_where=text("settlement_id IS NULL AND billable"),
            postgresql_where=text("settlement_id IS NULL AND billable"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    catalog: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("remote_sessions.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    worked_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("time_settlements.id"))
    # Made when the form is drawn: a double click logs the work once.
    submission_key: Mapped[str | None] = mapped_column(String(100), unique=True)

    user: Mapped[User | None] = relationship()


class TimeSettlement(db.Model):
    """The month-end job's run for one organization and closed month: once (unique), with the
    order that charges its extra time, if any."""

    __tablename__ = "time_settlements"
    __table_args__ = (
        UniqueConstraint("organization_id", "catalog", "month", name="uq_time_settlements_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    catalog: Mapped[str] = mapped_column(String(64))
    month: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    extra_minutes: Mapped[int] = mapped_column(default=0)

    order: Mapped[Order | None] = relationship()


class TimeAllocation(db.Model):
    """How a settlement paid one month's minutes: included, prepaid, extra."""

    __tablename__ = "time_allocations"
    __table_args__ = (Index("ix_time_allocations_organization_month", "organization_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("time_settlements.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    month: Mapped[date] = mapped_column(Date)
    included_minutes: Mapped[int] = mapped_column(default=0)
    prepaid_minutes: Mapped[int] = mapped_column(default=0)
    extra_minutes: Mapped[int] = mapped_column(default=0)


class HourCredit(db.Model):
    """The prepaid balance's ledger: minutes bought (an hours order, once) or used (a
    settlement). The balance is the sum."""

    __tablename__ = "hour_credits"
    __table_args__ = (
        Index("ix_hour_credits_organization", "organization_id", "catalog"),
        UniqueConstraint("order_id", name="uq_hour_credits_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    catalog: Mapped[str] = mapped_column(String(64))
    minutes: Mapped[int]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("time_settlements.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RemoteConnection(db.Model):
    """A remote connection a client asked for on a ticket, counted in its calendar month;
    ``paid`` when it was beyond the plan's limit and the client agreed to pay for it."""

    __tablename__ = "remote_connections"
    __table_args__ = (Index("ix_remote_connections_month", "organization_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    catalog: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    month: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid: Mapped[bool] = mapped_column(Boolean, default=False)


SESSION_STATUSES = ("booked", "done", "cancelled")


class RemoteSession(db.Model):
    """A paid remote session a client ordered (Kvartplata): on its backup, or on its computer
    at a booked time.

    ``carries_fee``: this session pays the one-time connection fee. The database decides
    which: one live session per organization may carry it (a unique index), so two first
    sessions ordered at once pay it once. One session holds a time (another unique index).
    """

    __tablename__ = "remote_sessions"
    __table_args__ = (
        Index("ix_remote_sessions_organization", "organization_id", "created_at"),
        Index("ix_remote_sessions_starts", "catalog", "starts_at"),
        Index(
            "uq_remote_sessions_fee",
            "organization_id",
            "catalog",
            unique=True,
            sqlite_where=text("carries_fee"),
            postgresql_where=text("carries_fee"),
        ),
        Index(
            "uq_remote_sessions_slot",
            "catalog",
            "starts_at",
            unique=True,
            sqlite_where=text("status <> 'cancelled' AND starts_at IS NOT NULL"),
            postgresql_where=text("status <> 'cancelled' AND starts_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    catalog: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="booked")
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    description: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(String(32))
    backup_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    carries_fee: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    file_name: Mapped[str | None] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_size: Mapped[int | None]
    ordered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    submission_key: Mapped[str | None] = mapped_column(String(100), unique=True)

    organization: Mapped[Organization] = relationship()
    ordered_by: Mapped[User | None] = relationship()
    order: Mapped[Order | None] = relationship()


class Act(db.Model):
    """An act of completed work (акт виконаних робіт) for one organization and month: its
    lines locked as JSON, numbered gap-free from its own sequence, issued once."""

    __tablename__ = "acts"
    __table_args__ = (
        UniqueConstraint("organization_id", "catalog", "month", name="uq_acts_month"),
        Index("ix_acts_organization", "organization_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    catalog: Mapped[str] = mapped_column(String(64))
    catalog_version: Mapped[int]
    month: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lines: Mapped[str] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    bill_to_name: Mapped[str] = mapped_column(String(200))
    bill_to_tax_number: Mapped[str | None] = mapped_column(String(64))
    bill_to_address: Mapped[str | None] = mapped_column(Text)

    organization: Mapped[Organization] = relationship()


class ReportRecipient(db.Model):
    """An address the organization's owner wants the monthly report mailed to."""

    __tablename__ = "report_recipients"
    __table_args__ = (
        UniqueConstraint("organization_id", "email", name="uq_report_recipients_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReportMailing(db.Model):
    """The monthly report of one month mailed to an organization: once (unique)."""

    __tablename__ = "report_mailings"
    __table_args__ = (
        UniqueConstraint("organization_id", "month", name="uq_report_mailings_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    month: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recipients: Mapped[int] = mapped_column(default=0)
