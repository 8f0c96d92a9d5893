"""The ticket lists: the client's own, and the staff queue with its filters.

Each is one ``select`` with its loads (organization, assignee, targets and
pauses in a fixed number of queries), paged by :func:`portal.listing.page_of`,
so a page costs the same few queries at 1,000 tickets or at 100,000.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.listing import matching
from portal.models import OPEN_STATUSES, TICKET_STATUSES, Ticket, TicketMessage, User

# The queue's filters: the first value of each is its default.
STATUS_FILTER = ("open", "all", *TICKET_STATUSES)
DUE_FILTER = ("any", "breached", "within-hour")


def _loaded(query: Select) -> Select:
    return query.options(
        joinedload(Ticket.organization),
        joinedload(Ticket.assignee),
        selectinload(Ticket.targets),
        selectinload(Ticket.pauses),
    )


def organization_tickets(organization_id: int, search: str = "", status: str = "all") -> Select:
    """An organization's tickets, newest first."""
    query = select(Ticket).where(Ticket.organization_id == organization_id)
    if status == "open":
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif status in TICKET_STATUSES:
        query = query.where(Ticket.status == status)
    found = matching(search, Ticket.title)
    if found is not None:
        query = query.where(found)
    return _loaded(query.order_by(Ticket.opened_at.desc(), Ticket.id.desc()))


def queue(filters: dict[str, str], search: str, now: datetime, me: int | None = None) -> Select:
    """The staff queue: the nearest due time first (breached ones at the top), then tickets
    whose clocks stand still or run none, oldest first; ``filters`` as the queue reads them
    (status, due, plan, assignee)."""
    query = select(Ticket)
    status = filters.get("status", "open")
    if status == "open":
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif status in TICKET_STATUSES:
        query = query.where(Ticket.status == status)
    due = filters.get("due", "any")
    if due == "breached":
        query = query.where(or_(Ticket.breached_at.is_not(None), Ticket.next_due_at <= now))
    elif due == "within-hour":
        query = query.where(
            and_(Ticket.next_due_at > now, Ticket.next_due_at <= now + timedelta(hours=1))
        )
    plan = filters.get("plan", "any")
    if plan == "none":
        query = query.where(Ticket.plan.is_(None))
    elif plan != "any":
        query = query.where(Ticket.plan == plan)
    assignee = filters.get("assignee", "any")
    if assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee == "me" and me is not None:
        query = query.where(Ticket.assignee_id == me)
    elif assignee.isdigit():
        query = query.where(Ticket.assignee_id == int(assignee))
    found = matching(search, Ticket.title)
    if found is not None:
        query = query.where(found)
    return _loaded(
        # NULLS LAST is PostgreSQL's own order of an ascending index: the page is read
        # from ix_tickets_queue in order, not sorted out of every open ticket.
        query.order_by(Ticket.next_due_at.asc().nulls_last(), Ticket.opened_at, Ticket.id)
    )


def staff_members(session: Session) -> list[User]:
    """Active staff and admins, by name: the assignees."""
    return list(
        session.scalars(
            select(User)
            .where(User.role.in_(("staff", "admin")), User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def conversation(session: Session, ticket_id: int, internal: bool) -> list[TicketMessage]:
    """The ticket's messages in order, with their authors and files; staff's notes only
    for staff (``internal``)."""
    query = (
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket_id)
        .options(joinedload(TicketMessage.author), selectinload(TicketMessage.attachments))
        .order_by(TicketMessage.created_at, TicketMessage.id)
    )
    if not internal:
        query = query.where(TicketMessage.internal.is_(False))
    return list(session.scalars(query))
