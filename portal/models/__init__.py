"""Database models."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

ROLES = ("client", "staff", "admin")
STAFF_ROLES = frozenset({"staff", "admin"})
# An organization's people: its owner, members who may order and pay ("billing"), members.
ORG_ROLES = ("owner", "billing", "member")
PAYING_ROLES = frozenset({"owner", "billing"})
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
    # The provider's logo, a file beside the catalog when it was published: kept with the
    # version, so that a version reads the same wherever and whenever it is served.
    logo_name: Mapped[str | None] = mapped_column(String(255))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    # From when it prices: when it was published, or a midnight in the catalog's zone it was
    # scheduled for. Never earlier than an earlier version's (the publishing use case's rule).
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:
        return f"<CatalogVersion {self.name} v{self.version}>"


class CatalogDraft(db.Model):
    """The catalog being edited in the admin area: a TOML text started from version
    ``base_version``, one per catalog, until it is published or discarded.

    Saves compare and set: each names the values it changes as they were when the admin
    saw them, and a value another admin changed meanwhile refuses the save, with theirs.
    """

    __tablename__ = "catalog_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_version: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    # A logo uploaded into the draft (the text names it in ``provider.logo``); without one the
    # draft shows the newest version's.
    logo_name: Mapped[str | None] = mapped_column(String(255))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"<CatalogDraft {self.name} from v{self.base_version}>"


class PriceChangeNotice(db.Model):
    """A client told by mail that their renewal price changes with a version: once per
    period and version (unique), written with its mail in one transaction."""

    __tablename__ = "price_change_notices"
    __table_args__ = (UniqueConstraint("version_id", "period_id", name="uq_price_change_notices"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"))
    period_id: Mapped[int] = mapped_column(
        ForeignKey("subscription_periods.id", ondelete="CASCADE")
    )
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())


# PostgreSQL trigram indexes (pg_trgm) that keep the staff lists' searches fast on many rows:
# a search is column ILIKE '%word%', which no B-tree index serves. Migration 0009 makes
# them by hand (autogenerate knows no operator classes), so autogenerate leaves them alone.
TRIGRAM_INDEX_PREFIX = "ix_trgm_"


def autogenerated(name: str | None, type_: str, parent_names) -> bool:
    """Whether ``flask db migrate`` compares this object with the models (Alembic's
    ``include_name``): everything but the trigram indexes."""
    return not (type_ == "index" and (name or "").startswith(TRIGRAM_INDEX_PREFIX))


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
    # Raised at each sign-out: every session signed in before it ends.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_owner(self) -> bool:
        return self.organization_id is not None and self.org_role == "owner"

    @property
    def pays(self) -> bool:
        """Orders, pays and cancels for the organization: its owner and billing members."""
        return self.organization_id is not None and self.org_role in PAYING_ROLES

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def get_id(self) -> str:
        """The session's id of the user: the id and a fingerprint of the password hash and
        the session generation.

        A new password or a sign-out changes the fingerprint, so every session
        signed in before ends (``portal.accounts.services.active_user`` refuses
        it), a copied cookie included.
        """
        return f"{self.id}.{self.session_fingerprint}"

    @property
    def session_fingerprint(self) -> str:
        # Of the salted hash, not the password: it tells nothing about the password. The
        # generation joins it once raised, so sessions of before generations existed last.
        seed = self.password_hash
        if self.session_generation:
            seed += f":{self.session_generation}"
        return hashlib.sha256(seed.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Invitation(db.Model):
    """An owner's invitation for ``email`` to join their organization (``org_role``), or an
    admin's to join the provider's staff (``staff_role``: staff or admin; no organization).

    The link's token is not stored here, only its SHA-256 (``token_hash``); its mail
    holds it in the outbox until the mail server takes it, then the mail's text is
    dropped (``OutboxMail.private``), so a copy of the database opens no invitation
    that was delivered. It works until ``expires_at``, once (``accepted_at``). An
    address has one open invitation per organization (a partial unique index).
    """

    __tablename__ = "invitations"
    __table_args__ = (
        Index(
            "uq_invitations_open",
            "organization_id",
            "email",
            unique=True,
            sqlite_where=text("accepted_at IS NULL"),
            postgresql_where=text("accepted_at IS NULL"),
        ),
        # One open staff invitation per address (NULL organizations are never equal above).
        Index(
            "uq_invitations_open_staff",
            "email",
            unique=True,
            sqlite_where=text("accepted_at IS NULL AND organization_id IS NULL"),
            postgresql_where=text("accepted_at IS NULL AND organization_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What the invitee becomes: a member, or a billing member who orders and pays.
    org_role: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    # A staff invitation: the role of the staff account it makes.
    staff_role: Mapped[str | None] = mapped_column(String(16))

    organization: Mapped[Organization | None] = relationship()
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
    # A quote's: where to send it, and the counts the plan asks for ({"register": 120}).
    email: Mapped[str | None] = mapped_column(String(254))
    counts: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    preferred_time: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent: Mapped[bool] = mapped_column(Boolean)
    # While the request is open, a digest of its phone, kind, plan and name (None once
    # closed): a double click or a second try is the same request, not a new one.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    closed_by: Mapped[User | None] = relationship()

    def is_overdue(self, now: datetime) -> bool:
        """Still open after the promised time."""
        return self.closed_at is None and self.due_at is not None and self.due_at < now

    def __repr__(self) -> str:
        return f"<CallbackRequest {self.id} {self.kind} {self.name}>"


# Money columns: 20 digits, 2 decimals, enough for rials (no decimals) and hryvnias alike.
Money = Numeric(20, 2)


# The kinds of orders that buy a plan's period; the others buy time (see ``portal.work``).
PLAN_ORDER_KINDS = ("new", "renewal", "upgrade")
PENDING_PLAN_ORDER = "status = 'pending_payment' AND kind IN ('new', 'renewal', 'upgrade')"


class Order(db.Model):
    """A quote locked for an organization: what it buys, at what price, from which catalog version.

    ``lines`` is the quote's lines as JSON (``code``, ``kind``, ``amount`` and a
    ``label`` per language, written when the order was placed), so the order,
    its invoice and its receipt read the same whatever the catalog becomes.
    ``request`` holds the engine's parameters that priced it. The price never
    changes: a later catalog version only prices later orders.

    ``status`` goes ``pending_payment`` → ``paid`` → ``fulfilled`` (its period
    exists), or ends ``expired`` (the checkout or invoice lapsed),
    ``cancelled`` or ``refunded``.
    """

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_organization_created", "organization_id", "created_at"),
        Index("ix_orders_status", "status"),
        # One order of a catalog's plans awaits payment per organization, even when two
        # confirmations race: two renewals paid side by side would buy the same days twice.
        # Orders of time (extra hours, prepaid hours, sessions) are not limited.
        Index(
            "uq_orders_one_pending",
            "organization_id",
            "catalog",
            unique=True,
            sqlite_where=text(PENDING_PLAN_ORDER),
            postgresql_where=text(PENDING_PLAN_ORDER),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    catalog: Mapped[str] = mapped_column(String(64))
    catalog_version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(16))
    request: Mapped[str] = mapped_column(Text)
    lines: Mapped[str] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    coverage_start: Mapped[date] = mapped_column(Date)
    coverage_end: Mapped[date] = mapped_column(Date)
    # Orders and periods name each other; this key is added after both tables (use_alter).
    previous_period_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "subscription_periods.id",
            use_alter=True,
            name="fk_orders_previous_period_id",
            ondelete="SET NULL",
        )
    )
    payment_method: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="pending_payment")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Random, per order: the idempotency key of its Checkout Session. Not the order's id,
    # which another database (a staging copy on the same Stripe account) also has.
    checkout_key: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255))

    organization: Mapped[Organization] = relationship()
    placed_by: Mapped[User | None] = relationship()
    previous_period: Mapped[SubscriptionPeriod | None] = relationship(
        foreign_keys=[previous_period_id]
    )

    @property
    def is_open(self) -> bool:
        return self.status == "pending_payment"

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.plan} {self.term} {self.status}>"


class SubscriptionPeriod(db.Model):
    """A plan an organization has paid for, from ``start`` to ``end`` inclusive.

    Exactly one per fulfilled order (``order_id`` is unique), whatever is
    delivered twice. ``ended_on`` is the last covered day when the period was
    cut short by an upgrade or a refund.
    """

    __tablename__ = "subscription_periods"
    __table_args__ = (Index("ix_subscription_periods_organization", "organization_id", "end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    catalog: Mapped[str] = mapped_column(String(64))
    plan: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    organization: Mapped[Organization] = relationship()
    order: Mapped[Order] = relationship(foreign_keys=[order_id])

    @property
    def last_day(self) -> date:
        """The last covered day: the end, or the day it was cut short."""
        return self.ended_on if self.ended_on is not None else self.end

    def __repr__(self) -> str:
        return f"<SubscriptionPeriod {self.id} {self.plan} {self.start}..{self.end}>"


class Document(db.Model):
    """An invoice (bank transfer) or a receipt (card payment) for an order, numbered gap-free.

    ``number`` comes from :class:`DocumentSequence`, taken in the transaction
    that creates the document, so a rolled-back document leaves no hole. The
    bill-to details are copied from the organization when it is issued: a
    document never changes when the profile does. An invoice is ``open`` until
    staff mark it ``paid`` (``paid_by``, ``paid_at``) or it ``expired`` on
    ``due_on``; a receipt is issued ``paid``.
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_documents_order_kind"),
        # The staff list: open invoices by due date, paid ones by when they were paid.
        Index("ix_documents_kind_status_due", "kind", "status", "due_on", "id"),
        Index("ix_documents_kind_status_paid", "kind", "status", "paid_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    bill_to_name: Mapped[str] = mapped_column(String(200))
    bill_to_tax_number: Mapped[str | None] = mapped_column(String(64))
    bill_to_address: Mapped[str | None] = mapped_column(Text)
    payment_reference: Mapped[str | None] = mapped_column(String(255))

    order: Mapped[Order] = relationship()
    organization: Mapped[Organization] = relationship()
    paid_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Document {self.kind} {self.number} {self.status}>"


class DocumentSequence(db.Model):
    """The last number given to a kind of document; its row is locked while a number is taken."""

    __tablename__ = "document_sequences"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class StripeEvent(db.Model):
    """A Stripe webhook event acted on, once: a second delivery of ``event_id`` is ignored."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    outcome: Mapped[str] = mapped_column(String(32))


class RenewalReminder(db.Model):
    """A reminder mailed ``days_before`` the end of a period: at most one of each."""

    __tablename__ = "renewal_reminders"
    __table_args__ = (
        UniqueConstraint("period_id", "days_before", name="uq_renewal_reminders_period_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("subscription_periods.id"))
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())


# A column default the database writes itself (inside OutboxMail, ``text`` is a column).
FALSE = text("false")


class OutboxMail(db.Model):
    """A mail waiting to be delivered, delivered, or given up on: the outbox.

    Written in the transaction of the action that causes it, so a rolled-back
    action sends nothing; the delivery job sends it after the commit.
    ``message_id`` and ``created_at`` (the Date header) are fixed when it is
    written, so a copy sent twice (a worker that died between the server's
    "accepted" and the mark "sent") carries the same Message-ID and readers drop it.

    ``status`` is ``pending`` until the mail server accepts it (``sent``) or
    the portal gives up (``failed``, after ``give_up_at`` or a refusal that no
    retry changes). ``claimed_until`` is set while a worker is sending it: a
    worker that dies leaves the claim to expire, and the mail is tried again.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        # The delivery job: pending mail whose attempt is due.
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        Index("ix_mail_outbox_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    template: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(320))
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    # Its text signs someone in (a confirmation, reset or invitation link): staff do not
    # read it, and it is dropped once the mail server has the mail.
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=FALSE)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    give_up_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        order_by="OutboxAttachment.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<OutboxMail {self.id} {self.template} to {self.to_address} {self.status}>"


class OutboxAttachment(db.Model):
    """A file attached to an outbox mail (an invoice's PDF)."""

    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(
        ForeignKey("mail_outbox.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class JobRun(db.Model):
    """One run of a periodic job for one period (``slot``), or one run asked for by hand.

    ``(job, slot)`` is unique: when two workers both schedule a job for the same
    period, the one whose row goes in first runs it and the other does nothing.
    ``outcome`` is ``running`` until the run ends ``ok`` or ``failed``;
    ``detail`` says what it did, or the error.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    detail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))

    def __repr__(self) -> str:
        return f"<JobRun {self.job} {self.slot} {self.outcome}>"


from portal.models.audit import AuditEntry  # noqa: E402, F401
from portal.models.tickets import (  # noqa: E402, F401  (they build on the models above)
    OPEN_STATUSES,
    PAUSING_STATUSES,
    TICKET_STATUSES,
    ApiToken,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketPause,
    TicketTarget,
)
from portal.models.visits import (  # noqa: E402, F401
    LIVE_VISIT,
    NO_OVERLAP,
    VISIT_KINDS,
    VISIT_STATUSES,
    Technician,
    TechnicianTimeOff,
    Visit,
)
from portal.models.work import (  # noqa: E402, F401
    SESSION_STATUSES,
    Act,
    HourCredit,
    RemoteConnection,
    RemoteSession,
    ReportMailing,
    ReportRecipient,
    TimeAllocation,
    TimeEntry,
    TimeSettlement,
)
