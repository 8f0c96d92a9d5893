"""Database models."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

ROLES = ("client", "staff", "admin")
STAFF_ROLES = frozenset({"staff", "admin"})
ORG_ROLES = ("owner", "member")
CALLBACK_KINDS = ("callback", "quote")
PREFERRED_TIMES = ("asap", "morning", "afternoon", "evening")


class UtcDateTime(TypeDecorator):
    """An aware datetime, stored in UTC and read back aware on every database.

    SQLite keeps no offset, so a value is converted to UTC on the way in and
    marked as UTC on the way out; PostgreSQL's ``timestamptz`` agrees.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times in the database are aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CatalogVersion(db.Model):
    """A published, immutable version of a catalog: its TOML source, numbered from 1 by name.

    Quotes, orders and invoices name the version they were priced from, so a
    later version never changes what was already quoted.
    """

    __tablename__ = "catalog_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_catalog_versions_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(255))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<CatalogVersion {self.name} v{self.version}>"


class ImmutableRowError(RuntimeError):
    pass


@event.listens_for(CatalogVersion, "before_update")
@event.listens_for(CatalogVersion, "before_delete")
def _published_versions_never_change(mapper, connection, target: CatalogVersion) -> None:
    raise ImmutableRowError(f"{target!r} is published and cannot change; publish a new version")


class Organization(db.Model):
    """A client: a company with several users, and the legal details an invoice needs.

    ``language`` (one of ``portal.i18n.LOCALES``) is the language of its mail
    unless a user chose their own; ``timezone`` is an IANA name.
    """

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tax_number: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    users: Mapped[list[User]] = relationship(back_populates="organization", order_by="User.id")

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name}>"


class User(UserMixin, db.Model):
    """A person who signs in: a provider's staff or admin, or a client organization's user.

    ``email`` is stored lower-case and is the login; ``password_hash`` is a
    werkzeug scrypt hash. An account that is not ``active`` cannot sign in.
    A client user belongs to an ``organization`` as its ``owner`` or a
    ``member`` (``org_role``); staff and admins belong to none. A client who
    registered signs in once ``email_confirmed_at`` is set.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    org_role: Mapped[str | None] = mapped_column(String(16))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_owner(self) -> bool:
        return self.organization_id is not None and self.org_role == "owner"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Invitation(db.Model):
    """An owner's invitation for ``email`` to join their organization as a member.

    The link's token is never stored, only its SHA-256 (``token_hash``): a copy
    of the database opens no invitation. It works until ``expires_at``, once
    (``accepted_at``).
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship()

    def is_open(self, now: datetime) -> bool:
        """Neither accepted nor expired at ``now``."""
        return self.accepted_at is None and now < self.expires_at

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.email} to {self.organization_id}>"


class CallbackRequest(db.Model):
    """A client's request to be called back, or to get a quote for a plan priced on request.

    ``due_at`` is the engine's promise (``portal.plans.sla.callback_due``), None
    when the catalog promises no time; ``options`` is the comparison's query
    string the client was looking at. The request is open until staff close it.
    """

    __tablename__ = "callback_requests"
    __table_args__ = (
        # The staff list: open requests, oldest first.
        Index("ix_callback_requests_open", "closed_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    catalog: Mapped[str] = mapped_column(String(64))
    catalog_version: Mapped[int]
    plan: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    company: Mapped[str | None] = mapped_column(String(200))
    preferred_time: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent: Mapped[bool] = mapped_column(Boolean)

    closed_by: Mapped[User | None] = relationship()

    def is_overdue(self, now: datetime) -> bool:
        """Still open after the promised time."""
        return self.closed_at is None and self.due_at is not None and self.due_at < now

    def __repr__(self) -> str:
        return f"<CallbackRequest {self.id} {self.kind} {self.name}>"
