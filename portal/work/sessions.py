"""Use cases of paid remote sessions (Kvartplata): ordered, held, priced, invoiced.

A client orders ``remote-backup`` with its backup file, a detailed description,
a contact phone and its consent to pay; or ``remote-direct`` for a free time on
the provider's calendar (never instant: from the next working hour), confirming
that a fresh backup exists, with its consent. Staff log the time spent on it;
completing it prices that time with the engine (the minimum hour; the one-time
connection fee only on the organization's first direct session) and invoices it
through billing.

The database decides what a request cannot: one live session holds a time (a
unique index on the catalog and start), and one live session per organization
carries the connection fee (a unique index), so two first sessions ordered at
once pay the fee once. A cancelled session gives both up.

Functions that change something take the session and commit once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.billing.documents import new_invoice, next_number
from portal.billing.invoices import can_be_invoiced
from portal.billing.orders import Labels, time_order
from portal.locking import locked_row
from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import Document, Order, RemoteSession, TimeEntry
from portal.plans import Catalog
from portal.plans.worktime import (
    is_scheduled,
    price_time,
    session_calendar,
    session_services,
    session_slots,
)
from portal.tickets.attachments import safe_name
from portal.work.worklog import WorkError, lock_organization

DESCRIPTION_MINIMUM = 30
DESCRIPTION_LENGTH = 20000
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SessionOrder:
    """What a client asks for; ``backup`` is the uploaded file's name and stream."""

    service: str
    description: str
    contact_phone: str
    consent: bool
    starts_at: datetime | None = None
    backup_confirmed: bool = False
    backup_name: str | None = None
    backup: BinaryIO | None = None
    submission_key: str | None = None


@dataclass(frozen=True)
class BackupPolicy:
    folder: Path
    max_bytes: int


def taken_times(session: Session, catalog_name: str, since: datetime) -> list[datetime]:
    """The start times live sessions hold from ``since`` on."""
    return list(
        session.scalars(
            select(RemoteSession.starts_at).where(
                RemoteSession.catalog == catalog_name,
                RemoteSession.status != "cancelled",
                RemoteSession.starts_at >= since,
            )
        )
    )


def free_times(session: Session, catalog: Catalog, now: datetime) -> tuple[datetime, ...]:
    """The times a direct session can be booked for, from the next working hour on."""
    calendar = session_calendar(catalog)
    if calendar is None:
        return ()
    return session_slots(calendar, now, taken_times(session, catalog.code, now))


def first_direct(session: Session, organization_id: int, catalog_name: str) -> bool:
    """Whether the organization's next direct session would pay the connection fee: no live
    session carries it."""
    return not session.scalar(
        select(func.count(RemoteSession.id)).where(
            RemoteSession.organization_id == organization_id,
            RemoteSession.catalog == catalog_name,
            RemoteSession.carries_fee.is_(True),
        )
    )


def store_backup(name: str, stream: BinaryIO, policy: BackupPolicy) -> tuple[str, int]:
    """Copy an uploaded backup into the files folder a chunk at a time, never whole in
    memory; its random stored name and size. WorkError ``file_too_large`` or
    ``file_empty``, leaving nothing on disk."""
    policy.folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    path = policy.folder / stored
    size = 0
    try:
        with open(path, "xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > policy.max_bytes:
                    raise WorkError("file_too_large", "backup")
                out.write(chunk)
        if not size:
            raise WorkError("file_empty", "backup")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return stored, size


def order_session(
    session: Session,
    asked: SessionOrder,
    *,
    catalog: Catalog,
    organization_id: int,
    user_id: int | None,
    policy: BackupPolicy,
    now: datetime,
) -> RemoteSession:
    """Book the session ``asked`` for; commit. The same submission twice books one.

    Raises :class:`WorkError`: ``unknown_service``, ``consent_required``,
    ``describe_more``, ``missing_phone``, ``missing_backup``, ``file_too_large``,
    ``backup_not_confirmed``, ``missing_time``, ``slot_taken`` (a time no longer
    free: another client took it a moment ago, or it has passed).
    """
    services = {s.code: s for s in session_services(catalog)}
    service = services.get(asked.service)
    if service is None:
        raise WorkError("unknown_service", "service")
    if asked.submission_key:
        earlier = session.scalars(
            select(RemoteSession).where(RemoteSession.submission_key == asked.submission_key)
        ).first()
        if earlier is not None and earlier.organization_id == organization_id:
            return earlier
    description = (asked.description or "").strip()
    if len(description) < DESCRIPTION_MINIMUM:
        raise WorkError("describe_more", "description")
    if len(description) > DESCRIPTION_LENGTH:
        raise WorkError("description_too_long", "description")
    if not (asked.contact_phone or "").strip():
        raise WorkError("missing_phone", "contact_phone")
    scheduled = is_scheduled(service)
    if scheduled:
        if asked.starts_at is None:
            raise WorkError("missing_time", "starts_at")
        if not asked.backup_confirmed:
            raise WorkError("backup_not_confirmed", "backup_confirmed")
    elif asked.backup is None:
        raise WorkError("missing_backup", "backup")
    if not asked.consent:
        raise WorkError("consent_required", "consent")
    stored = None
    size = None
    if not scheduled:
        stored, size = store_backup(asked.backup_name or "backup", asked.backup, policy)
    try:
        lock_organization(session, organization_id)
        if scheduled and asked.starts_at not in free_times(session, catalog, now):
            raise WorkError("slot_taken", "starts_at")
        booked = RemoteSession(
            organization_id=organization_id,
            catalog=catalog.code,
            service=service.code,
            status="booked",
            starts_at=asked.starts_at if scheduled else None,
            description=description,
            contact_phone=asked.contact_phone.strip(),
            backup_confirmed=asked.backup_confirmed if scheduled else False,
            consent_at=now,
            carries_fee=scheduled and first_direct(session, organization_id, catalog.code),
            file_name=safe_name(asked.backup_name or "backup") if stored else None,
            stored_name=stored,
            file_size=size,
            ordered_by_id=user_id,
            created_at=now,
            submission_key=asked.submission_key,
        )
        session.add(booked)
        session.commit()
    except IntegrityError:
        session.rollback()
        _discard(stored, policy)
        if asked.submission_key:
            earlier = session.scalars(
                select(RemoteSession).where(RemoteSession.submission_key == asked.submission_key)
            ).first()
            if earlier is not None:
                return earlier
        # The time was taken between the check and the insert (the index decided).
        raise WorkError("slot_taken", "starts_at") from None
    except BaseException:
        session.rollback()
        _discard(stored, policy)
        raise
    return booked


def _discard(stored: str | None, policy: BackupPolicy) -> None:
    if stored:
        (policy.folder / stored).unlink(missing_ok=True)


def backup_path(row: RemoteSession, policy: BackupPolicy) -> Path | None:
    if not row.stored_name:
        return None
    path = policy.folder / row.stored_name
    return path if path.is_file() else None


def lock_session(session: Session, row: RemoteSession) -> RemoteSession:
    """``row`` read afresh and locked until the commit."""
    return locked_row(session, RemoteSession, row.id)


def cancel_session(
    session: Session, row: RemoteSession, now: datetime, notice: timedelta
) -> RemoteSession:
    """The client calls a booked session off, up to ``notice`` before it starts; its time
    is free again, and the connection fee passes to the next direct session. Commit.
    WorkError ``session_closed`` or ``too_late``."""
    row = lock_session(session, row)
    if row.status != "booked":
        session.rollback()
        raise WorkError("session_closed")
    if row.starts_at is not None and row.starts_at - notice < now:
        session.rollback()
        raise WorkError("too_late")
    row.status = "cancelled"
    row.carries_fee = False
    session.commit()
    return row


def session_minutes(session: Session, session_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
                TimeEntry.session_id == session_id, TimeEntry.billable.is_(True)
            )
        )
    )


def complete_session(
    session: Session,
    row: RemoteSession,
    *,
    catalog: Catalog,
    labels: Labels,
    titles: dict[str, str],
    today: date,
    now: datetime,
    due_days: int,
    mail: Callable[[Order, Document | None], list[Mail]] | None = None,
    outbox: Outbox | None = None,
) -> Order:
    """Staff close a held session: its logged time priced by the engine (the minimum
    hour; the connection fee when this session carries it) into an order, invoiced for a
    bank transfer where the organization has the details for one; commit.

    WorkError ``session_closed`` (done or cancelled already: one order per session) or
    ``no_time_logged``.
    """
    row = lock_session(session, row)
    if row.status != "booked":
        session.rollback()
        raise WorkError("session_closed")
    minutes = session_minutes(session, row.id)
    if minutes <= 0:
        session.rollback()
        raise WorkError("no_time_logged")
    priced = price_time(catalog, row.service, minutes, first_time=row.carries_fee)
    day = (row.starts_at or now).date()
    order = time_order(
        priced,
        kind="session",
        organization_id=row.organization_id,
        user_id=None,
        labels=labels,
        titles=titles,
        details={"session": row.id, "minutes": minutes, "service": row.service},
        coverage=(day, day),
        now=now,
    )
    session.add(order)
    session.flush()
    row.order_id = order.id
    row.status = "done"
    row.done_at = now
    document = None
    if can_be_invoiced(row.organization):
        order.payment_method = "bank-transfer"
        document = new_invoice(
            order,
            row.organization,
            number=next_number(session, "invoice"),
            issued_at=now,
            due_on=today + timedelta(days=due_days),
        )
        session.add(document)
        session.flush()
    if mail is not None and outbox is not None:
        outbox.put_all(session, mail(order, document), now)
    session.commit()
    return order


def sessions_of(organization_id: int, catalog_name: str):
    """The organization's sessions, newest first (a query to page through)."""
    return (
        select(RemoteSession)
        .where(
            RemoteSession.organization_id == organization_id,
            RemoteSession.catalog == catalog_name,
        )
        .order_by(RemoteSession.created_at.desc(), RemoteSession.id.desc())
    )


def day_plan(session: Session, catalog: Catalog, start: datetime, end: datetime):
    """Sessions to hold between ``start`` and ``end`` (a day in the calendar's zone), and
    the backups waiting for a consultant, for staff."""
    booked = list(
        session.scalars(
            select(RemoteSession)
            .where(
                RemoteSession.catalog == catalog.code,
                RemoteSession.status != "cancelled",
                RemoteSession.starts_at >= start,
                RemoteSession.starts_at < end,
            )
            .order_by(RemoteSession.starts_at)
        )
    )
    return booked


def waiting_backups(catalog_name: str):
    """Backups sent in and not completed, oldest first (a query to page through)."""
    return (
        select(RemoteSession)
        .where(
            RemoteSession.catalog == catalog_name,
            RemoteSession.status == "booked",
            RemoteSession.starts_at.is_(None),
        )
        .order_by(RemoteSession.created_at, RemoteSession.id)
    )
