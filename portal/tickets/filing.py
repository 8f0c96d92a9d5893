"""Filing a ticket: by a client on the site or through the API, or by staff for a caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.billing.orders import period_on
from portal.models import Organization, Ticket, TicketTarget, User
from portal.plans import Catalog
from portal.plans.tickets import new_ticket_targets, ticket_plan
from portal.tickets import attachments, clocks

TITLE_LENGTH = 200
TEXT_LENGTH = 20000
# How far back staff may date a call they file, and how far ahead a clock may be off.
CALL_MAX_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=2)


class TicketError(ValueError):
    """A request about a ticket the portal refuses: ``code`` says why (the web and the API
    say it in the user's language), ``field`` names the input at fault, if one is."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class TicketDetails:
    """What a ticket says: the client's words, the category and the target it claims."""

    title: str
    description: str
    category: str
    target: str | None = None
    remote_access: bool = False
    contact_phone: str | None = None


def active_plan(session: Session, organization_id: int, catalog: Catalog, today: date):
    """The plan of ``catalog`` the organization has today, or None (see ``period_on``)."""
    row = period_on(session, organization_id, catalog, today)
    return row.plan if row is not None else None


def check_text(details: TicketDetails) -> None:
    if not details.title.strip():
        raise TicketError("title_missing", "title")
    if len(details.title) > TITLE_LENGTH:
        raise TicketError("title_too_long", "title")
    if not details.description.strip():
        raise TicketError("description_missing", "description")
    if len(details.description) > TEXT_LENGTH:
        raise TicketError("text_too_long", "description")


def file_ticket(
    session: Session,
    catalog: Catalog,
    organization: Organization,
    details: TicketDetails,
    *,
    opened_by: User | None,
    now: datetime,
    today: date,
    files: attachments.FilePolicy,
    uploads: list[attachments.Upload] = (),
    filed_by: User | None = None,
    called_at: datetime | None = None,
    submission_key: str | None = None,
) -> Ticket:
    """Register a ticket for ``organization`` and commit it, with its targets and files.

    Its clocks start at ``now``, or for a ticket staff file for a client who phoned
    (``filed_by``), at the time of the call (``called_at``: not ahead of now, at most
    7 days back). The plan is the organization's active plan, else the catalog's
    per-request one (:func:`portal.plans.tickets.ticket_plan`). The same
    ``submission_key`` twice (a double click, a retried API call) gives the first
    ticket back. A PlanError for a category or target the catalog refuses, a
    TicketError or AttachmentRefused for anything else; nothing is saved then.
    """
    if submission_key:
        found = _submitted(session, submission_key)
        if found is not None:
            return found
    check_text(details)
    opened_at = now
    if filed_by is not None and called_at is not None:
        if called_at.tzinfo is None:
            raise TicketError("call_time_invalid", "called_at")
        if called_at > now + CLOCK_SKEW:
            raise TicketError("call_in_future", "called_at")
        if called_at < now - CALL_MAX_AGE:
            raise TicketError("call_too_old", "called_at")
        opened_at = min(called_at, now)
    plan = ticket_plan(catalog, active_plan(session, organization.id, catalog, today))
    codes = new_ticket_targets(catalog, plan, details.category, details.target or None)
    attachments.check_count(list(uploads), files)
    ticket = Ticket(
        organization_id=organization.id,
        opened_by_id=opened_by.id if opened_by else None,
        filed_by_id=filed_by.id if filed_by else None,
        catalog=catalog.code,
        catalog_version=catalog.version,
        plan=plan,
        category=details.category,
        claimed_target=details.target or None,
        title=" ".join(details.title.split()),
        description=details.description.strip(),
        remote_access=details.remote_access,
        contact_phone=details.contact_phone or None,
        status="new",
        opened_at=opened_at,
        created_at=now,
        updated_at=now,
        submission_key=submission_key or None,
    )
    ticket.targets = [
        TicketTarget(target=code, position=position, started_at=opened_at, due_at=now, warn_at=now)
        for position, code in enumerate(codes)
    ]
    session.add(ticket)
    stored = []
    try:
        session.flush()
        for upload in uploads:
            row = attachments.store(upload, files, ticket.id, _id(opened_by or filed_by), now)
            stored.append(row)
            session.add(row)
        clocks.sync(catalog, ticket, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        attachments.discard(stored, files)
        found = _submitted(session, submission_key) if submission_key else None
        if found is None:
            raise
        return found  # the same form sent twice at once: the first one stands
    except BaseException:
        session.rollback()
        attachments.discard(stored, files)
        raise
    return ticket


def _submitted(session: Session, key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.submission_key == key))


def _id(user: User | None) -> int | None:
    return user.id if user is not None else None
