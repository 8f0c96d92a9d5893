"""A ticket's life after filing: replies and notes, its status path, assignment, the defect
path, a plan change, ratings, and the closing of resolved tickets.

Each use case locks the ticket's row, changes it, lets :func:`clocks.sync`
write the engine's due times, and commits. Asking for what is already so (a
second click on "waiting for the client") changes nothing; two clicks at once
meet the open-pause index, and the second is answered with the first's result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import (
    PAUSING_STATUSES,
    STAFF_ROLES,
    Ticket,
    TicketMessage,
    TicketPause,
    TicketTarget,
    User,
)
from portal.plans import Catalog
from portal.plans.requests import plan_of
from portal.plans.tickets import (
    category_of,
    defect_target,
    met_by,
    new_ticket_targets,
)
from portal.tickets import attachments, clocks
from portal.tickets.filing import TEXT_LENGTH, TicketError

# Where each status may go (the same status again is no change).
NEXT_STATUSES = {
    "new": ("in_progress", "waiting_for_client", "resolved"),
    "in_progress": ("waiting_for_client", "resolved"),
    "waiting_for_client": ("in_progress", "resolved"),
    "resolved": ("in_progress", "closed"),
    "closed": (),
}
COMMENT_LENGTH = 2000

# Mail a use case writes to the outbox: given the ticket and the message, the mails.
Notify = Callable[[Ticket, TicketMessage], list]


def lock(session: Session, ticket: Ticket) -> Ticket:
    """``ticket`` read afresh and locked until the commit, as billing locks an order
    (:func:`portal.billing.orders.locked_order`): PostgreSQL locks the row; on SQLite a
    write that changes nothing takes the database's one write lock first, so a second
    click waits for the first and reads what it committed."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(id=Ticket.id)
            .execution_options(synchronize_session=False)
        )
    return session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _commit(session: Session, ticket: Ticket, stored=(), files=None) -> Ticket:
    """Commit; a race lost on the open-pause index is the other click's result."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if files is not None:
            attachments.discard(list(stored), files)
        session.refresh(ticket)
    return ticket


def add_message(
    session: Session,
    catalog: Catalog,
    ticket: Ticket,
    author: User,
    body: str,
    *,
    now: datetime,
    files: attachments.FilePolicy,
    uploads: list[attachments.Upload] = (),
    internal: bool = False,
    outbox=None,
    notify: Notify | None = None,
    submission_key: str | None = None,
) -> TicketMessage:
    """Add ``author``'s message and commit.

    Staff's first public reply meets the targets met by a first reply and puts a new
    ticket in progress; an internal note changes nothing but the conversation. A
    client's reply ends a wait (the ticket is in progress again) and reopens a
    resolved ticket (its resolution targets run again). A closed ticket takes none.
    The same ``submission_key`` twice (a double click) gives the first message back.
    """
    if submission_key:
        sent = _sent(session, submission_key, ticket.id)
        if sent is not None:
            return sent
    if not body.strip():
        raise TicketError("message_missing", "body")
    if len(body) > TEXT_LENGTH:
        raise TicketError("text_too_long", "body")
    staff = author.role in STAFF_ROLES
    if internal and not staff:
        raise TicketError("not_staff", "internal")
    attachments.check_count(list(uploads), files)
    ticket = lock(session, ticket)
    if ticket.status == "closed":
        session.rollback()
        raise TicketError("ticket_closed")
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=author.id,
        body=body.strip(),
        internal=internal,
        from_staff=staff,
        created_at=now,
        submission_key=submission_key or None,
    )
    session.add(message)
    stored = []
    try:
        session.flush()
        for upload in uploads:
            row = attachments.store(upload, files, ticket.id, author.id, now)
            row.message_id = message.id
            stored.append(row)
            session.add(row)
    except BaseException:
        session.rollback()
        attachments.discard(stored, files)
        raise
    if staff and not internal:
        for target in ticket.targets:
            if target.met_at is None and met_by(catalog, target.target) == "first-reply":
                target.met_at = now
        if ticket.status == "new":
            ticket.status = "in_progress"
    elif not staff and ticket.status in ("waiting_for_client", "resolved"):
        # The client answered: the wait ends, or the resolution was not the end of it.
        _move(catalog, ticket, "in_progress", now)
    ticket.updated_at = now
    clocks.sync(catalog, ticket, now)
    if notify is not None and outbox is not None and not internal:
        for mail in notify(ticket, message):
            outbox.put(session, mail, now)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        attachments.discard(stored, files)
        sent = _sent(session, submission_key, ticket.id) if submission_key else None
        if sent is None:
            raise
        return sent  # the same form sent twice at once: the first one stands
    return message


def _sent(session: Session, key: str, ticket_id: int) -> TicketMessage | None:
    """The message already sent with ``key`` on this ticket (a key of another ticket's
    message is no duplicate: the insert then fails on the unique key, and says so)."""
    return session.scalar(
        select(TicketMessage).where(
            TicketMessage.submission_key == key, TicketMessage.ticket_id == ticket_id
        )
    )


def set_status(
    session: Session, catalog: Catalog, ticket: Ticket, by: User, status: str, now: datetime
) -> Ticket:
    """Move ``ticket`` to ``status`` along the path, by staff; commit. The same status is no
    change; a step the path does not have is a TicketError ``status_not_allowed``."""
    ticket = lock(session, ticket)
    if status == ticket.status:
        session.rollback()
        return ticket
    if status not in NEXT_STATUSES.get(ticket.status, ()):
        session.rollback()
        raise TicketError("status_not_allowed", "status")
    _move(catalog, ticket, status, now)
    session.add(_event(ticket, by, status, now))
    ticket.updated_at = now
    clocks.sync(catalog, ticket, now)
    return _commit(session, ticket)


def close_by_client(
    session: Session, catalog: Catalog, ticket: Ticket, by: User, now: datetime
) -> Ticket:
    """The client confirms a resolved ticket is done: closed. Closed again: no change."""
    ticket = lock(session, ticket)
    if ticket.status == "closed":
        session.rollback()
        return ticket
    if ticket.status != "resolved":
        session.rollback()
        raise TicketError("status_not_allowed", "status")
    _move(catalog, ticket, "closed", now)
    session.add(_event(ticket, by, "closed", now))
    ticket.updated_at = now
    clocks.sync(catalog, ticket, now)
    return _commit(session, ticket)


def _move(catalog: Catalog, ticket: Ticket, status: str, now: datetime) -> None:
    """Change the status and what follows from it: the pause of a status that holds the
    clocks ends, the new one's begins; resolving meets the resolution targets and
    reopening runs them again."""
    before = ticket.status
    if status == "closed":
        # Its clocks stand still for good: a resolved ticket's pause stays open.
        ticket.closed_at = now
        ticket.status = status
        return
    pause = ticket.open_pause
    if pause is not None:
        pause.ended_at = now
    if status in PAUSING_STATUSES:
        ticket.pauses.append(
            TicketPause(ticket_id=ticket.id, kind=PAUSING_STATUSES[status], started_at=now)
        )
    if status == "resolved":
        ticket.resolved_at = now
        for target in ticket.targets:
            if target.met_at is None and met_by(catalog, target.target) == "resolution":
                target.met_at = now
    elif before == "resolved" and status == "in_progress":
        for target in ticket.targets:
            if met_by(catalog, target.target) == "resolution":
                target.met_at = None
        ticket.resolved_at = None
    ticket.status = status


def _event(ticket: Ticket, by: User | None, event: str, now: datetime) -> TicketMessage:
    """A line of the conversation that says what happened (shown in words by the page)."""
    return TicketMessage(
        ticket_id=ticket.id,
        author_id=by.id if by else None,
        body="",
        event=event,
        from_staff=by is None or by.role in STAFF_ROLES,
        created_at=now,
    )


def assign(session: Session, ticket: Ticket, by: User, assignee_id: int | None, now) -> Ticket:
    """Give ``ticket`` to a staff member (None: to nobody); commit."""
    ticket = lock(session, ticket)
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active or assignee.role not in STAFF_ROLES:
            session.rollback()
            raise TicketError("assignee_unknown", "assignee")
    if ticket.assignee_id == assignee_id:
        session.rollback()
        return ticket
    ticket.assignee_id = assignee_id
    ticket.updated_at = now
    session.add(_event(ticket, by, "assigned", now))
    return _commit(session, ticket)


def confirm_defect(
    session: Session, catalog: Catalog, ticket: Ticket, by: User, now: datetime
) -> Ticket:
    """Staff confirm the problem is a defect of the product: its fix-date target starts
    now (Crystals: the client is told within 3 days when it will be fixed)."""
    ticket = lock(session, ticket)
    code = defect_target(catalog, ticket.plan)
    if code is None or not ticket.is_open:
        session.rollback()
        raise TicketError("no_defect_target")
    if ticket.defect_confirmed_at is not None:
        session.rollback()
        return ticket
    ticket.defect_confirmed_at = now
    ticket.targets.append(
        TicketTarget(
            ticket_id=ticket.id,
            target=code,
            position=len(ticket.targets),
            started_at=now,
            due_at=now,
            warn_at=now,
        )
    )
    session.add(_event(ticket, by, "defect_confirmed", now))
    ticket.updated_at = now
    session.flush()
    clocks.sync(catalog, ticket, now)
    return _commit(session, ticket)


def record_fix_date(
    session: Session,
    catalog: Catalog,
    ticket: Ticket,
    by: User,
    fix_date: date,
    today: date,
    now: datetime,
) -> Ticket:
    """Staff tell the client when the confirmed defect will be fixed: the fix-date target
    is met now (a new date later changes the date, not when the target was met)."""
    ticket = lock(session, ticket)
    if ticket.defect_confirmed_at is None:
        session.rollback()
        raise TicketError("defect_not_confirmed")
    if fix_date < today:
        session.rollback()
        raise TicketError("fix_date_past", "fix_date")
    ticket.fix_date = fix_date
    ticket.fix_recorded_at = ticket.fix_recorded_at or now
    for target in ticket.targets:
        if target.met_at is None and met_by(catalog, target.target) == "fix-date":
            target.met_at = now
    session.add(_event(ticket, by, "fix_date", now))
    ticket.updated_at = now
    clocks.sync(catalog, ticket, now)
    return _commit(session, ticket)


def change_plan(
    session: Session,
    catalog: Catalog,
    ticket: Ticket,
    by: User,
    plan_code: str | None,
    claimed: str | None,
    now: datetime,
) -> Ticket:
    """Run ``ticket`` on another plan of ``catalog`` (the organization changed plans): its
    targets are those the new plan gives the ticket's category, from its opening, and
    every due time is computed again from the whole pause history. A target both plans
    have keeps when it was met."""
    ticket = lock(session, ticket)
    if plan_code is not None:
        plan_of(catalog, plan_code)
    category_of(catalog, ticket.category)
    codes = new_ticket_targets(catalog, plan_code, ticket.category, claimed or None)
    kept = {target.target: target for target in ticket.targets}
    ticket.targets = [
        kept.get(code)
        or TicketTarget(
            ticket_id=ticket.id, target=code, started_at=ticket.opened_at, due_at=now, warn_at=now
        )
        for code in codes
    ]
    for position, target in enumerate(ticket.targets):
        target.position = position
    ticket.plan, ticket.claimed_target = plan_code, claimed or None
    ticket.catalog, ticket.catalog_version = catalog.code, catalog.version
    ticket.defect_confirmed_at = (
        None
        if not any(catalog.sla_targets[c].applies == "confirmed-defect" for c in codes)
        else ticket.defect_confirmed_at
    )
    session.add(_event(ticket, by, "plan_changed", now))
    ticket.updated_at = now
    session.flush()
    clocks.sync(catalog, ticket, now)
    return _commit(session, ticket)


def rate(
    session: Session, ticket: Ticket, by: User, rating: int, comment: str, now: datetime
) -> Ticket:
    """The client's rating of the help, 1-5, and a comment, once the ticket is resolved
    (rated again: the new rating stands)."""
    if not 1 <= rating <= 5:
        raise TicketError("rating_invalid", "rating")
    if len(comment) > COMMENT_LENGTH:
        raise TicketError("comment_too_long", "comment")
    ticket = lock(session, ticket)
    if ticket.status not in ("resolved", "closed"):
        session.rollback()
        raise TicketError("not_resolved", "rating")
    ticket.rating, ticket.rating_comment = rating, comment.strip() or None
    ticket.rated_at = now
    return _commit(session, ticket)


def close_resolved(session: Session, now: datetime, days: int, batch: int = 500) -> list[int]:
    """Close the tickets resolved over ``days`` days ago (a client's reply would have
    reopened them); their ids. Run twice, the second closes nothing."""
    closed = []
    cutoff = now - timedelta(days=days)
    while True:
        ids = list(
            session.scalars(
                select(Ticket.id)
                .where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff)
                .order_by(Ticket.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            break
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(ids), Ticket.status == "resolved")
            .values(status="closed", closed_at=now, updated_at=now, next_due_at=None)
        )
        session.add_all(
            TicketMessage(
                ticket_id=i, body="", event="auto_closed", from_staff=True, created_at=now
            )
            for i in ids
        )
        session.commit()
        closed += ids
    return closed
