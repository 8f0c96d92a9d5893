"""Use cases of on-site visits: free slots, the quota, booking, moving, cancelling, the
dispatch queue and the provider's planned visits.

Never a double booking: a technician's live blocks cannot overlap in the database
(see :mod:`portal.models.visits`). Booking checks the slot first, to answer with
the nearest free ones, then inserts: on PostgreSQL the exclusion constraint
decides between two bookings at once (the loser's insert fails inside a
savepoint, and the next technician free then is tried); on SQLite the
organization's lock takes the database's one write lock before the check, so
bookings check and insert one after the other. Quotas are counted under the
organization's lock too: two visits booked at once never both use the last free
hours.

Functions that change something take the session and commit once; mail goes to the
outbox in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload

from portal.billing.orders import Labels, period_on, time_order, void_pending_order
from portal.formatting import is_known_zone
from portal.locking import locked_row
from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import (
    NO_OVERLAP,
    STAFF_ROLES,
    Order,
    Organization,
    SubscriptionPeriod,
    Technician,
    TechnicianTimeOff,
    Ticket,
    User,
    Visit,
)
from portal.plans import Catalog, PlanError
from portal.plans.loading import WEEKDAYS, is_holiday_country
from portal.plans.visits import (
    AREA,
    REGIONS,
    Quota,
    Slot,
    TechnicianTime,
    VisitPrice,
    can_change,
    check_block,
    check_region,
    contract_year,
    dispatch_rank,
    earliest_start,
    nearest_slots,
    parse_hours,
    price_visit,
    technician_calendar,
    visit_calendar,
    visit_quota,
    week_slots,
)
from portal.work.worklog import lock_organization

ADDRESS_LENGTH = 500
PURPOSE_LENGTH = 4000
# The dispatch queue shows at most this many requests (a day's worth many times over).
DISPATCH_LIMIT = 200
# PostgreSQL's SQLSTATE for a deadlock it broke by failing one transaction's statement.
DEADLOCK_DETECTED = "40P01"
# How far from a taken slot the nearest free ones are looked for.
NEAREST_SPAN_DAYS = 14


class VisitError(ValueError):
    """A mistake in what was asked: ``code`` says what, ``field`` where; ``nearest``: the
    free slots nearest a slot that was just taken."""

    def __init__(self, code: str, field: str | None = None, nearest: Sequence[Slot] = ()):
        super().__init__(code)
        self.code = code
        self.field = field
        self.nearest = tuple(nearest)


# --- technicians and their time --------------------------------------------------------------


def technician_calendar_of(catalog: Catalog, technician: Technician):
    """The technician's working calendar: the catalog's visit calendar with their own zone,
    days, hours and holidays where they have them."""
    base = visit_calendar(catalog)
    if base is None:
        return None
    days = None
    if technician.days:
        days = [WEEKDAYS.index(name) for name in technician.days.split(",") if name]
    return technician_calendar(
        base,
        timezone=technician.timezone,
        days=days,
        hours=parse_hours(technician.hours) if technician.hours else None,
        holidays=technician.holidays,
    )


def technicians_of(session: Session, catalog_code: str, region: str | None = None):
    query = (
        select(Technician)
        .join(User, User.id == Technician.user_id)
        .where(
            Technician.catalog == catalog_code,
            Technician.active.is_(True),
            User.active.is_(True),
            User.role.in_(STAFF_ROLES),
        )
        .options(joinedload(Technician.user))
    )
    if region is not None:
        query = query.where(Technician.region == region)
    return list(session.scalars(query.order_by(Technician.id)))


def busy_spans(
    session: Session,
    technician_ids: Sequence[int],
    since: datetime,
    until: datetime,
    except_visit: int | None = None,
) -> dict[int, list[tuple[datetime, datetime]]]:
    """What fills each technician's time between ``since`` and ``until``: live visits and
    time off. Two queries, however many technicians and visits."""
    busy: dict[int, list[tuple[datetime, datetime]]] = {tid: [] for tid in technician_ids}
    if not technician_ids:
        return busy
    visits = select(Visit.technician_id, Visit.starts_at, Visit.ends_at).where(
        Visit.technician_id.in_(technician_ids),
        Visit.status == "booked",
        Visit.starts_at < until,
        Visit.ends_at > since,
    )
    if except_visit is not None:
        visits = visits.where(Visit.id != except_visit)
    away = select(
        TechnicianTimeOff.technician_id, TechnicianTimeOff.starts_at, TechnicianTimeOff.ends_at
    ).where(
        TechnicianTimeOff.technician_id.in_(technician_ids),
        TechnicianTimeOff.starts_at < until,
        TechnicianTimeOff.ends_at > since,
    )
    for query in (visits, away):
        for technician_id, start, end in session.execute(query):
            busy[technician_id].append((start, end))
    return busy


def free_slots(
    session: Session,
    catalog: Catalog,
    *,
    region: str,
    hours: int,
    first_day: date,
    days: int,
    now: datetime,
    except_visit: int | None = None,
) -> tuple[Slot, ...]:
    """The free blocks of ``hours`` in ``region`` over ``days`` days from ``first_day`` (in
    the catalog's zone), from the catalog's notice on: a fixed number of queries."""
    technicians = technicians_of(session, catalog.code, region)
    zone = ZoneInfo(catalog.timezone)
    # A day either side: technicians in other zones start their days earlier or later.
    since = datetime.combine(first_day - timedelta(days=1), time(0), zone)
    until = datetime.combine(first_day + timedelta(days=days + 1), time(0), zone)
    busy = busy_spans(session, [t.id for t in technicians], since, until, except_visit)
    times = []
    for technician in technicians:
        calendar = technician_calendar_of(catalog, technician)
        if calendar is not None:
            times.append(TechnicianTime(technician.id, calendar, tuple(busy[technician.id])))
    earliest = earliest_start(now, catalog.visits.notice_hours)
    slots = week_slots(times, first_day, hours, earliest, days)
    # A technician elsewhere may have blocks of the day before or after, in the catalog's zone.
    return tuple(
        slot
        for slot in slots
        if first_day <= slot.start.astimezone(zone).date() < first_day + timedelta(days=days)
    )


def nearest_free(
    session: Session,
    catalog: Catalog,
    *,
    region: str,
    hours: int,
    wanted: datetime,
    now: datetime,
    except_visit: int | None = None,
) -> tuple[Slot, ...]:
    """The free slots nearest ``wanted``: what a client who lost a slot is offered."""
    zone = ZoneInfo(catalog.timezone)
    first = max(
        wanted.astimezone(zone).date() - timedelta(days=NEAREST_SPAN_DAYS // 2),
        now.astimezone(zone).date(),
    )
    slots = free_slots(
        session,
        catalog,
        region=region,
        hours=hours,
        first_day=first,
        days=NEAREST_SPAN_DAYS,
        now=now,
        except_visit=except_visit,
    )
    return nearest_slots(slots, wanted)


# --- the contract year's quota ---------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """The plan that covers a day and the contract year the day falls in."""

    plan: str | None
    year: tuple[date, date] | None


def contract_on(session: Session, organization_id: int, catalog: Catalog, day: date) -> Contract:
    """The plan of the period covering ``day`` and the contract year the day falls in."""
    row = period_on(session, organization_id, catalog, day)
    if row is None:
        return Contract(None, None)
    return Contract(row.plan, contract_year(row.start, row.last_day, day))


def quota_of(session: Session, organization_id: int, catalog: Catalog, contract: Contract) -> Quota:
    """The free hours and periodic visits of ``contract``'s year: included, used (by live
    and done visits counted against that year), left. One query."""
    if contract.year is None:
        return visit_quota(catalog, contract.plan, None, Decimal(0), 0)
    hours, periodic = session.execute(
        select(
            func.coalesce(func.sum(Visit.covered_hours), 0),
            func.count(Visit.id).filter(Visit.periodic_covered.is_(True)),
        ).where(
            Visit.organization_id == organization_id,
            Visit.catalog == catalog.code,
            Visit.year_start == contract.year[0],
            Visit.status != "cancelled",
        )
    ).one()
    return visit_quota(catalog, contract.plan, contract.year, Decimal(hours), int(periodic))


def local_day(catalog: Catalog, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(catalog.timezone)).date()


def visit_price(
    session: Session,
    organization_id: int,
    catalog: Catalog,
    *,
    hours: int,
    region: str,
    day: date,
    periodic: bool = False,
) -> tuple[Contract, Quota, VisitPrice]:
    """What a visit on ``day`` would cost the organization now, with the quota it uses."""
    contract = contract_on(session, organization_id, catalog, day)
    quota = quota_of(session, organization_id, catalog, contract)
    return contract, quota, price_visit(catalog, quota, hours, region, periodic)


# --- booking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRequest:
    """What a client asks for. ``starts_at`` None: as soon as possible (the dispatch
    queue). ``accepted_total``: the price the client saw and accepted, None for a free
    visit; a visit that costs something else is refused, never booked at a price the
    client did not see."""

    hours: int
    region: str
    address: str
    purpose: str
    starts_at: datetime | None = None
    contact_phone: str | None = None
    ticket_id: int | None = None
    periodic: bool = False
    accepted_total: Decimal | None = None
    submission_key: str | None = None


# ``mail(visit, event)``: the mails of a visit booked, moved or cancelled; ``mail(visit,
# "released", technician_id)``: the cancellation to a technician it no longer goes to.
MailOf = Callable[..., list[Mail]]


def _check_request(session: Session, catalog: Catalog, asked: VisitRequest, organization_id):
    try:
        check_block(catalog, asked.hours)
        check_region(asked.region)
    except PlanError as error:
        raise VisitError(error.code, error.field) from None
    if asked.periodic and asked.region != AREA:
        raise VisitError("periodic_in_area", "region")
    if asked.periodic and asked.starts_at is None:
        raise VisitError("missing_time", "starts_at")
    if not (asked.address or "").strip():
        raise VisitError("missing_address", "address")
    if len(asked.address) > ADDRESS_LENGTH:
        raise VisitError("address_too_long", "address")
    if not (asked.purpose or "").strip():
        raise VisitError("missing_purpose", "purpose")
    if len(asked.purpose) > PURPOSE_LENGTH:
        raise VisitError("purpose_too_long", "purpose")
    if asked.ticket_id is not None:
        ticket = session.get(Ticket, asked.ticket_id)
        if ticket is None or ticket.organization_id != organization_id:
            raise VisitError("unknown_ticket", "ticket_id")


def _earlier(session: Session, key: str | None, organization_id: int) -> Visit | None:
    if not key:
        return None
    visit = session.scalars(select(Visit).where(Visit.submission_key == key)).first()
    return visit if visit is not None and visit.organization_id == organization_id else None


def book_visit(
    session: Session,
    asked: VisitRequest,
    *,
    catalog: Catalog,
    organization_id: int,
    user_id: int | None,
    labels: Labels,
    titles: Callable[[Visit], dict[str, str]],
    now: datetime,
    mail: MailOf | None = None,
    outbox: Outbox | None = None,
) -> Visit:
    """Book the visit ``asked`` for (or queue it, as soon as possible); commit. The same
    submission twice books one.

    Raises :class:`VisitError`: ``invalid_block``, ``invalid_region``,
    ``periodic_in_area``, ``missing_address``, ``missing_purpose``, ``unknown_ticket``,
    ``no_periodic`` (the plan has no periodic visits), ``visit_not_priced``,
    ``price_changed`` (the visit costs other than the price accepted, or something
    when nothing was), and ``slot_taken`` with the nearest free slots.
    """
    earlier = _earlier(session, asked.submission_key, organization_id)
    if earlier is not None:
        return earlier
    _check_request(session, catalog, asked, organization_id)
    lock_organization(session, organization_id)
    # The same form sent twice at once: the second waited for the lock, and finds the first.
    earlier = _earlier(session, asked.submission_key, organization_id)
    if earlier is not None:
        session.rollback()
        return earlier
    day = local_day(catalog, asked.starts_at or now)
    try:
        contract, quota, priced = visit_price(
            session,
            organization_id,
            catalog,
            hours=asked.hours,
            region=asked.region,
            day=day,
            periodic=asked.periodic,
        )
    except PlanError as error:
        session.rollback()
        raise VisitError(error.code, error.field) from None
    if asked.periodic and quota.periodic == 0:
        session.rollback()
        raise VisitError("no_periodic", "periodic")
    seen = None if priced.quote is None else priced.quote.total
    if seen != asked.accepted_total:
        session.rollback()
        raise VisitError("price_changed", "accept")
    visit = Visit(
        catalog=catalog.code,
        organization_id=organization_id,
        kind="periodic" if asked.periodic else ("asap" if asked.starts_at is None else "booked"),
        status="requested",
        hours=asked.hours,
        region=asked.region,
        address=asked.address.strip(),
        purpose=asked.purpose.strip(),
        contact_phone=(asked.contact_phone or "").strip() or None,
        ticket_id=asked.ticket_id,
        plan=contract.plan,
        covered_hours=priced.covered_hours,
        periodic_covered=priced.periodic_covered,
        year_start=contract.year[0] if contract.year else None,
        uid=f"{secrets.token_hex(12)}@visits",
        booked_by_id=user_id,
        submission_key=asked.submission_key,
        created_at=now,
        updated_at=now,
    )
    try:
        if asked.starts_at is not None:
            _hold_slot(session, catalog, visit, asked.starts_at, now)
        session.add(visit)
        session.flush()
    except IntegrityError:
        session.rollback()
        earlier = _earlier(session, asked.submission_key, organization_id)
        if earlier is not None:
            return earlier
        raise
    if priced.quote is not None:
        order = time_order(
            priced.quote,
            kind="visit",
            organization_id=organization_id,
            user_id=user_id,
            labels=labels,
            titles=titles(visit),
            details={"visit": visit.id, "hours": priced.charged_hours},
            coverage=(day, day),
            now=now,
        )
        session.add(order)
        session.flush()
        visit.order_id = order.id
    if mail is not None and outbox is not None:
        outbox.put_all(session, mail(visit, "booked"), now)
    session.commit()
    return visit


def _hold_slot(
    session: Session, catalog: Catalog, visit: Visit, starts_at: datetime, now: datetime
) -> None:
    """Give ``visit`` a technician free at ``starts_at`` for its hours; flushes. The slot
    must be one the page offers; among its technicians, the first whose block the
    database accepts (on PostgreSQL, another booking may have taken it a moment ago).
    VisitError ``slot_taken`` with the nearest free slots when none is left."""
    zone = ZoneInfo(catalog.timezone)
    slots = free_slots(
        session,
        catalog,
        region=visit.region,
        hours=visit.hours,
        first_day=starts_at.astimezone(zone).date(),
        days=1,
        now=now,
        except_visit=visit.id,
    )
    slot = next((s for s in slots if s.start == starts_at), None)
    candidates = slot.technicians if slot is not None else ()
    if visit.technician_id in candidates:  # a move keeps its technician where it can
        others = [t for t in candidates if t != visit.technician_id]
        candidates = (visit.technician_id, *others)
    for technician_id in candidates:
        if _took(session, visit, technician_id, slot.start, slot.end):
            return
    wanted = starts_at
    region, hours, visit_id = visit.region, visit.hours, visit.id
    session.rollback()
    nearest = nearest_free(
        session,
        catalog,
        region=region,
        hours=hours,
        wanted=wanted,
        now=now,
        except_visit=visit_id,
    )
    raise VisitError("slot_taken", "starts_at", nearest)


def lock_visit(session: Session, visit_id: int) -> Visit:
    """The visit read afresh and locked until the commit."""
    return locked_row(session, Visit, visit_id)


def _changeable(catalog: Catalog, visit: Visit, now: datetime, by_staff: bool) -> None:
    if not visit.is_live:
        raise VisitError("visit_closed")
    if by_staff or visit.starts_at is None:
        return
    if visit.kind == "planned":
        raise VisitError("planned_by_provider")
    if not can_change(visit.starts_at, now, catalog.visits.change_hours):
        raise VisitError("too_late")


def client_may_change(catalog: Catalog, visit: Visit, now: datetime) -> bool:
    """Whether the client may still move or cancel ``visit`` itself (else it asks staff)."""
    try:
        _changeable(catalog, visit, now, by_staff=False)
    except VisitError:
        return False
    return True


def cancel_visit(
    session: Session,
    visit_id: int,
    *,
    catalog: Catalog,
    now: datetime,
    by_staff: bool = False,
    mail: MailOf | None = None,
    outbox: Outbox | None = None,
) -> Visit:
    """Call a visit off: its free hours come back, its unpaid order is cancelled, and
    calendars are told to remove it (same uid). A client may until the catalog's
    ``change_hours`` before it starts; later only staff. Commit.
    VisitError ``visit_closed``, ``too_late``, ``planned_by_provider``."""
    visit = lock_visit(session, visit_id)
    try:
        _changeable(catalog, visit, now, by_staff)
    except VisitError:
        session.rollback()
        raise
    visit.status = "cancelled"
    visit.cancelled_at = now
    visit.updated_at = now
    visit.sequence += 1
    if visit.order_id is not None:
        void_pending_order(session, visit.order_id, now)
    if mail is not None and outbox is not None:
        outbox.put_all(session, mail(visit, "cancelled"), now)
    session.commit()
    return visit


def move_visit(
    session: Session,
    visit_id: int,
    starts_at: datetime,
    *,
    catalog: Catalog,
    now: datetime,
    by_staff: bool = False,
    technician_id: int | None = None,
    mail: MailOf | None = None,
    outbox: Outbox | None = None,
) -> Visit:
    """Move a visit to another free block of its length in the same contract year (its
    quota and price stay as they were); calendars update the entry (same uid, next
    sequence), and a technician it no longer goes to is told it is off. Staff move it to
    any time its technician (or ``technician_id``) is free. Commit. VisitError as
    :func:`cancel_visit`, ``other_year``, ``slot_taken``."""
    visit = lock_visit(session, visit_id)
    before = visit.technician_id
    try:
        _changeable(catalog, visit, now, by_staff)
        if visit.year_start is not None:
            contract = contract_on(
                session, visit.organization_id, catalog, local_day(catalog, starts_at)
            )
            if contract.year is None or contract.year[0] != visit.year_start:
                raise VisitError("other_year", "starts_at")
    except VisitError:
        session.rollback()
        raise
    if by_staff:
        _place(session, catalog, visit, technician_id or visit.technician_id, starts_at)
    else:
        _hold_slot(session, catalog, visit, starts_at, now)
    visit.sequence += 1
    visit.updated_at = now
    visit.change_request = None
    if mail is not None and outbox is not None:
        outbox.put_all(session, mail(visit, "moved"), now)
        if before is not None and before != visit.technician_id:
            outbox.put_all(session, mail(visit, "released", before), now)
    session.commit()
    return visit


def ask_change(session: Session, visit_id: int, text: str, *, now: datetime) -> Visit:
    """The client asks staff to move a visit it cannot change itself (too late, or planned
    by the provider). Commit. VisitError ``visit_closed``, ``missing_change``."""
    text = (text or "").strip()
    if not text:
        raise VisitError("missing_change", "change")
    if len(text) > PURPOSE_LENGTH:
        raise VisitError("purpose_too_long", "change")
    visit = lock_visit(session, visit_id)
    if not visit.is_live:
        session.rollback()
        raise VisitError("visit_closed")
    visit.change_request = text
    visit.updated_at = now
    session.commit()
    return visit


# --- staff -----------------------------------------------------------------------------------


def assign_visit(
    session: Session,
    visit_id: int,
    technician_id: int,
    starts_at: datetime,
    *,
    catalog: Catalog,
    now: datetime,
    mail: MailOf | None = None,
    outbox: Outbox | None = None,
) -> Visit:
    """Staff give a request of the dispatch queue a technician and a time; commit.
    VisitError ``visit_closed``, ``slot_taken`` (that technician is busy then)."""
    visit = lock_visit(session, visit_id)
    if visit.status != "requested":
        session.rollback()
        raise VisitError("visit_closed")
    _place(session, catalog, visit, technician_id, starts_at)
    visit.updated_at = now
    if mail is not None and outbox is not None:
        outbox.put_all(session, mail(visit, "booked"), now)
    session.commit()
    return visit


def _place(session, catalog, visit: Visit, technician_id: int, starts_at: datetime) -> None:
    """Staff's choice of technician and time: any time, as long as the technician is free
    (the database has the last word)."""
    technician = session.get(Technician, technician_id)
    if technician is None or technician.catalog != catalog.code or not technician.active:
        session.rollback()
        raise VisitError("unknown_technician", "technician_id")
    ends_at = starts_at + timedelta(hours=visit.hours)
    busy = busy_spans(session, [technician_id], starts_at, ends_at, except_visit=visit.id)
    if busy[technician_id] or not _took(session, visit, technician_id, starts_at, ends_at):
        session.rollback()
        raise VisitError("slot_taken", "starts_at")


def _took(session, visit: Visit, technician_id: int, starts_at, ends_at) -> bool:
    """Give ``visit`` to the technician for ``starts_at``-``ends_at`` in a savepoint; False
    when the database refuses the block (another booking holds an overlapping one, or
    took it in a deadlock between bookings at once). Any other refusal (the same
    submission key sent twice) goes up to the caller."""
    try:
        with session.begin_nested():
            visit.technician_id = technician_id
            visit.starts_at = starts_at
            visit.ends_at = ends_at
            visit.status = "booked"
            session.add(visit)
            session.flush()
    except IntegrityError as error:
        if NO_OVERLAP not in str(error.orig):
            raise
        return False
    except OperationalError as error:
        # Bookings of one block at once check the exclusion constraint against each
        # other's rows not yet committed, and PostgreSQL may break such a cycle by failing
        # one of them: for that one the block went to another, as if it had been refused.
        if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED:
            raise
        return False
    return True


@dataclass(frozen=True)
class PlannedVisit:
    organization_id: int
    technician_id: int
    starts_at: datetime
    hours: int
    address: str
    purpose: str


def plan_visit(
    session: Session,
    planned: PlannedVisit,
    *,
    catalog: Catalog,
    user_id: int | None,
    now: datetime,
    mail: MailOf | None = None,
    outbox: Outbox | None = None,
) -> Visit:
    """The provider schedules a maintenance visit its contract includes (iiko); commit.
    VisitError ``not_planned`` (the organization's plan has none), ``invalid_hours``,
    ``missing_address``, ``missing_purpose``, ``unknown_technician``, ``slot_taken``."""
    day = local_day(catalog, planned.starts_at)
    contract = contract_on(session, planned.organization_id, catalog, day)
    if contract.plan not in catalog.visits.planned:
        raise VisitError("not_planned", "organization_id")
    if not 1 <= planned.hours <= 12:
        raise VisitError("invalid_hours", "hours")
    if not planned.address.strip():
        raise VisitError("missing_address", "address")
    if not planned.purpose.strip():
        raise VisitError("missing_purpose", "purpose")
    lock_organization(session, planned.organization_id)
    visit = Visit(
        catalog=catalog.code,
        organization_id=planned.organization_id,
        kind="planned",
        status="requested",
        hours=planned.hours,
        region=AREA,
        address=planned.address.strip()[:ADDRESS_LENGTH],
        purpose=planned.purpose.strip()[:PURPOSE_LENGTH],
        plan=contract.plan,
        year_start=contract.year[0] if contract.year else None,
        uid=f"{secrets.token_hex(12)}@visits",
        booked_by_id=user_id,
        created_at=now,
        updated_at=now,
    )
    _place(session, catalog, visit, planned.technician_id, planned.starts_at)
    if mail is not None and outbox is not None:
        outbox.put_all(session, mail(visit, "booked"), now)
    session.commit()
    return visit


def complete_visit(session: Session, visit_id: int, *, now: datetime) -> Visit:
    """Staff mark a visit made. Commit. VisitError ``visit_closed``."""
    visit = lock_visit(session, visit_id)
    if visit.status != "booked":
        session.rollback()
        raise VisitError("visit_closed")
    visit.status = "done"
    visit.updated_at = now
    session.commit()
    return visit


# --- lists -----------------------------------------------------------------------------------


def visits_of(organization_id: int, catalog_code: str):
    """The organization's visits, the coming ones first, then the past, newest first."""
    return (
        select(Visit)
        .where(Visit.organization_id == organization_id, Visit.catalog == catalog_code)
        .order_by(Visit.starts_at.desc().nulls_first(), Visit.id.desc())
    )


def dispatch_queue(session: Session, catalog: Catalog) -> list[Visit]:
    """Requests to send someone as soon as possible, in dispatch order: plan priority
    (premium first), then first asked first. One query, ordered by the database."""
    ranks = {code: dispatch_rank(catalog, code) for code in catalog.plans}
    rank = case(ranks, value=Visit.plan, else_=dispatch_rank(catalog, None))
    return list(
        session.scalars(
            select(Visit)
            .where(Visit.catalog == catalog.code, Visit.status == "requested", Visit.kind == "asap")
            .order_by(rank, Visit.created_at, Visit.id)
            .options(joinedload(Visit.organization))
            .limit(DISPATCH_LIMIT)
        )
    )


def day_plan(session: Session, catalog: Catalog, day: date) -> list[tuple[Technician, list]]:
    """Each technician's visits and time off on ``day`` (catalog's zone), by start: three
    queries however many technicians."""
    zone = ZoneInfo(catalog.timezone)
    since = datetime.combine(day, time(0), zone)
    until = since + timedelta(days=1)
    technicians = technicians_of(session, catalog.code)
    ids = [t.id for t in technicians]
    visits = session.scalars(
        select(Visit)
        .where(
            Visit.technician_id.in_(ids),
            Visit.status.in_(("booked", "done")),
            Visit.starts_at < until,
            Visit.ends_at > since,
        )
        .options(joinedload(Visit.organization))
    ).all()
    away = session.scalars(
        select(TechnicianTimeOff).where(
            TechnicianTimeOff.technician_id.in_(ids),
            TechnicianTimeOff.starts_at < until,
            TechnicianTimeOff.ends_at > since,
        )
    ).all()
    plan = []
    for technician in technicians:
        items = [v for v in visits if v.technician_id == technician.id]
        items += [a for a in away if a.technician_id == technician.id]
        plan.append((technician, sorted(items, key=lambda item: item.starts_at)))
    return plan


def change_requests(session: Session, catalog: Catalog) -> list[Visit]:
    """Live visits whose client asked staff for a change, the oldest first."""
    return list(
        session.scalars(
            select(Visit)
            .where(
                Visit.catalog == catalog.code,
                Visit.change_request.is_not(None),
                Visit.status.in_(("requested", "booked")),
            )
            .order_by(Visit.updated_at)
            .options(joinedload(Visit.organization))
            .limit(DISPATCH_LIMIT)
        )
    )


def planned_clients(session: Session, catalog: Catalog, today: date) -> list[tuple[int, str]]:
    """(id, name) of organizations with a period of a plan that includes planned visits,
    running today or later."""
    return [
        tuple(row)
        for row in session.execute(
            select(Organization.id, Organization.name)
            .join(SubscriptionPeriod, SubscriptionPeriod.organization_id == Organization.id)
            .where(
                SubscriptionPeriod.catalog == catalog.code,
                SubscriptionPeriod.plan.in_(catalog.visits.planned),
                SubscriptionPeriod.end >= today,
            )
            .distinct()
            .order_by(Organization.name)
            .limit(500)
        )
    ]


def upcoming_time_off(
    session: Session, technician_ids: Sequence[int], now: datetime
) -> dict[int, list[TechnicianTimeOff]]:
    """Each technician's time off not over yet, by start. One query."""
    away: dict[int, list[TechnicianTimeOff]] = {tid: [] for tid in technician_ids}
    rows = session.scalars(
        select(TechnicianTimeOff)
        .where(
            TechnicianTimeOff.technician_id.in_(technician_ids),
            TechnicianTimeOff.ends_at > now,
        )
        .order_by(TechnicianTimeOff.starts_at)
        .limit(200)
    )
    for row in rows:
        away[row.technician_id].append(row)
    return away


def technician_candidates(session: Session) -> list[User]:
    """Active staff members who are no technician yet (of any catalog: one row each)."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.role.in_(STAFF_ROLES),
                User.active.is_(True),
                User.id.not_in(select(Technician.user_id)),
            )
            .order_by(User.name)
            .limit(500)
        )
    )


@dataclass(frozen=True)
class TechnicianDetails:
    """A technician as staff describe them; empty texts: the office's calendar's."""

    user_id: int | None
    region: str
    days: str = ""
    hours: str = ""
    timezone: str = ""
    holidays: str = ""

    def day_names(self) -> list[str]:
        return [d.strip().lower()[:3] for d in self.days.split(",") if d.strip()]


def technician_problems(session: Session, details: TechnicianDetails) -> dict[str, str]:
    """What is wrong with ``details``, by field: every mistake at once, for the form."""
    problems = {}
    if details.user_id not in {user.id for user in technician_candidates(session)}:
        problems["user_id"] = "not_a_candidate"
    if details.region not in REGIONS:
        problems["region"] = "invalid_region"
    if any(day not in WEEKDAYS for day in details.day_names()):
        problems["days"] = "invalid_days"
    if details.hours:
        try:
            parse_hours(details.hours)
        except PlanError:
            problems["hours"] = "invalid_working_hours"
    if details.holidays and not is_holiday_country(details.holidays.upper()):
        problems["holidays"] = "unknown_holidays"
    if details.timezone and not is_known_zone(details.timezone):
        problems["timezone"] = "unknown_zone"
    return problems


def add_technician(
    session: Session, catalog: Catalog, details: TechnicianDetails, *, now: datetime
) -> Technician:
    """Make a staff member a technician of ``catalog``; commit. VisitError with the field
    and code of the first of :func:`technician_problems`, or ``not_a_candidate`` when
    another tab made them one a moment ago."""
    problems = technician_problems(session, details)
    if problems:
        field, code = next(iter(problems.items()))
        raise VisitError(code, field)
    row = Technician(
        user_id=details.user_id,
        catalog=catalog.code,
        region=details.region,
        days=",".join(details.day_names()) or None,
        hours=details.hours or None,
        timezone=details.timezone or None,
        holidays=details.holidays.upper() or None,
        created_at=now,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise VisitError("not_a_candidate", "user_id") from None
    return row


def add_time_off(
    session: Session,
    technician_id: int,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
    *,
    now: datetime,
) -> TechnicianTimeOff:
    """Staff mark a technician away. Commit. VisitError ``invalid_span``."""
    if ends_at <= starts_at:
        raise VisitError("invalid_span", "ends_at")
    row = TechnicianTimeOff(
        technician_id=technician_id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=(note or "").strip()[:200] or None,
        created_at=now,
    )
    session.add(row)
    session.commit()
    return row


def pending_order_of(session: Session, visit: Visit) -> Order | None:
    if visit.order_id is None:
        return None
    order = session.get(Order, visit.order_id)
    return order if order is not None and order.status == "pending_payment" else None
