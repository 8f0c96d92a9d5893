"""On-site visits: the technicians who make them, their time off, and the visits booked.

A technician's booked blocks never overlap, and the database enforces it: on
PostgreSQL an exclusion constraint over the technician (as the range ``[id, id]``)
and ``tstzrange(starts_at, ends_at, '[)')`` of live visits
(``ex_visits_no_overlap``, made by migration 0015: autogenerate knows no exclusion
constraints), so back-to-back blocks 08-12 and 12-16 are allowed and two overlapping
ones never both commit. SQLite has no such constraint: the booking use case takes the
database's write lock before it checks.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import FALSE, Order, Organization, User, UtcDateTime

VISIT_KINDS = ("booked", "periodic", "asap", "planned")
VISIT_STATUSES = ("requested", "booked", "done", "cancelled")
# Visits that hold a technician's time: the exclusion constraint's and the checks' filter.
LIVE_VISIT = "status = 'booked' AND technician_id IS NOT NULL"
NO_OVERLAP = "ex_visits_no_overlap"


class Technician(db.Model):
    """A staff member who visits clients of ``catalog``, in ``region`` (the catalog's service
    area or ``out-of-town``). Working hours are the catalog's visit calendar unless the
    technician has their own ``days`` (``sat,sun,mon``), ``hours`` (``08:00-16:00``),
    ``timezone`` and ``holidays`` country."""

    __tablename__ = "technicians"
    __table_args__ = (
        CheckConstraint("region IN ('area', 'out-of-town')", name="ck_technicians_region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    catalog: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(16), default="area")
    timezone: Mapped[str | None] = mapped_column(String(64))
    days: Mapped[str | None] = mapped_column(String(32))
    hours: Mapped[str | None] = mapped_column(String(64))
    holidays: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Technician {self.id} user={self.user_id} {self.region}>"


class TechnicianTimeOff(db.Model):
    """A span a technician is away (leave, training): no block that touches it is offered."""

    __tablename__ = "technician_time_off"
    __table_args__ = (
        Index("ix_technician_time_off_technician", "technician_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ck_technician_time_off_span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Visit(db.Model):
    """A technician's visit to an organization.

    ``kind``: ``booked`` by the client for a free block, ``periodic`` (one of the plan's
    periodic visits), ``asap`` (send someone as soon as possible: ``requested`` in the
    dispatch queue until staff give it a technician and a time), or ``planned`` by the
    provider (iiko's maintenance visits). ``covered_hours``: the free on-site hours it
    uses of the contract year starting ``year_start``; ``order``: what it costs beyond
    them, accepted before it was booked. ``uid`` and ``sequence`` are its calendar
    entry's: a move raises the sequence, a cancellation keeps the uid, so calendar
    programs update the entry they have. ``change_request``: what the client asked to
    change when it is too late to do it themselves.
    """

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_organization", "organization_id", "starts_at"),
        Index("ix_visits_technician", "technician_id", "starts_at"),
        Index("ix_visits_catalog_status", "catalog", "status", "starts_at"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ck_visits_span"),
        CheckConstraint("kind IN ('booked', 'periodic', 'asap', 'planned')", name="ck_visits_kind"),
        CheckConstraint(
            "status IN ('requested', 'booked', 'done', 'cancelled')", name="ck_visits_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hours: Mapped[int]
    region: Mapped[str] = mapped_column(String(16), default="area")
    address: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    plan: Mapped[str | None] = mapped_column(String(64))
    covered_hours: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    periodic_covered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    year_start: Mapped[date | None] = mapped_column(Date)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    sequence: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    change_request: Mapped[str | None] = mapped_column(Text)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    organization: Mapped[Organization] = relationship()
    technician: Mapped[Technician | None] = relationship()
    order: Mapped[Order | None] = relationship()
    booked_by: Mapped[User | None] = relationship()

    @property
    def is_live(self) -> bool:
        return self.status in ("requested", "booked")

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.kind} {self.status} {self.starts_at}>"
