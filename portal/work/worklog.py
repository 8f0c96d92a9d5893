"""Use cases of work time: staff log it, the client sees the month's meter.

Staff log time on a ticket, a remote session or the organization itself
(:func:`log_time`). The meter (:func:`time_meter`) splits the organization's
time the way the month-end job will charge it (:mod:`portal.work.settlement`),
with the engine's arithmetic (:mod:`portal.plans.worktime`): included hours of
each calendar month first, then the prepaid balance, then extra time, priced
as the engine would charge it now. It reads a fixed number of queries,
however much time was logged: sums by day, never the entries themselves.

Functions that change something take the session and commit once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.billing.orders import periods
from portal.locking import locked_row
from portal.models import (
    HourCredit,
    Organization,
    RemoteConnection,
    TimeAllocation,
    TimeEntry,
)
from portal.plans import Catalog, PlanError, Quote
from portal.plans.worktime import (
    ConnectionLimit,
    MonthTime,
    PlanSpan,
    check_minutes,
    connection_limit,
    extra_service,
    last_day,
    month_allowance,
    month_of,
    price_extra,
    split_time,
)

DESCRIPTION_LENGTH = 2000


class WorkError(ValueError):
    """A mistake in what was asked: ``code`` says what, ``field`` where."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def lock_organization(session: Session, organization_id: int) -> Organization:
    """The organization's row, locked until the commit: use cases that count something per
    organization (connections this month, the first session's fee, a visit's free hours)
    take it first, so two requests at once count one after the other."""
    return locked_row(session, Organization, organization_id)


def counts_time(catalog: Catalog) -> bool:
    """Whether the catalog counts work time against plans (included hours or extra time)."""
    return catalog.work.included is not None or catalog.work.extra is not None


# --- logging time ----------------------------------------------------------------------------


def log_time(
    session: Session,
    *,
    organization_id: int,
    catalog: Catalog,
    user_id: int | None,
    minutes: int,
    worked_on: date,
    description: str,
    billable: bool,
    today: date,
    now: datetime,
    ticket_id: int | None = None,
    session_id: int | None = None,
    submission_key: str | None = None,
) -> TimeEntry:
    """Record work done for the organization, and commit. The same ``submission_key`` twice
    (a double click) records it once.

    Raises :class:`PlanError` for a duration out of bounds and :class:`WorkError`
    ``future_day`` (work is logged once done) or ``missing_description``.
    """
    check_minutes(minutes)
    if worked_on > today:
        raise WorkError("future_day", "worked_on")
    text = (description or "").strip()
    if not text:
        raise WorkError("missing_description", "description")
    if len(text) > DESCRIPTION_LENGTH:
        raise WorkError("description_too_long", "description")
    if submission_key:
        earlier = _submitted(session, submission_key)
        if earlier is not None:
            return earlier
    entry = TimeEntry(
        submission_key=submission_key or None,
        organization_id=organization_id,
        catalog=catalog.code,
        ticket_id=ticket_id,
        session_id=session_id,
        user_id=user_id,
        worked_on=worked_on,
        minutes=minutes,
        description=text,
        billable=billable,
        created_at=now,
    )
    session.add(entry)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        earlier = _submitted(session, submission_key) if submission_key else None
        if earlier is None:
            raise
        return earlier
    return entry


def _submitted(session: Session, key: str) -> TimeEntry | None:
    return session.scalars(select(TimeEntry).where(TimeEntry.submission_key == key)).first()


def remove_entry(session: Session, entry: TimeEntry) -> None:
    """Staff take back an entry logged by mistake, while it is not settled; commit.

    Raises :class:`WorkError` ``settled`` once the month-end job charged it: the order
    stands, and a correction is a new entry."""
    removed = session.execute(
        TimeEntry.__table__.delete().where(
            TimeEntry.id == entry.id, TimeEntry.settlement_id.is_(None)
        )
    ).rowcount
    if not removed:
        session.rollback()
        raise WorkError("settled")
    session.commit()


def ticket_minutes(session: Session, ticket_id: int) -> tuple[int, int]:
    """The minutes logged on a ticket: all of them, and the billable ones."""
    total, billable = session.execute(
        select(
            func.coalesce(func.sum(TimeEntry.minutes), 0),
            func.coalesce(func.sum(TimeEntry.minutes).filter(TimeEntry.billable.is_(True)), 0),
        ).where(TimeEntry.ticket_id == ticket_id)
    ).one()
    return int(total), int(billable)


def entries_of(ticket_id: int | None = None, session_id: int | None = None):
    """The entries of a ticket or a session, newest first (a query to page through)."""
    query = select(TimeEntry)
    if ticket_id is not None:
        query = query.where(TimeEntry.ticket_id == ticket_id)
    if session_id is not None:
        query = query.where(TimeEntry.session_id == session_id)
    return query.order_by(TimeEntry.worked_on.desc(), TimeEntry.id.desc())


def organization_entries(organization_id: int, month: date | None = None):
    """The organization's entries (of ``month``), newest first (a query to page through)."""
    query = select(TimeEntry).where(TimeEntry.organization_id == organization_id)
    if month is not None:
        query = query.where(TimeEntry.worked_on.between(month, last_day(month)))
    return query.order_by(TimeEntry.worked_on.desc(), TimeEntry.id.desc())


# --- the meter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthMeter:
    """One month's time as it stands: all minutes in the month's terms."""

    month: date
    allowance: int
    included_used: int
    prepaid_used: int
    extra: int

    @property
    def included_left(self) -> int:
        return max(self.allowance - self.included_used, 0)


@dataclass(frozen=True)
class TimeMeter:
    """The organization's time today: this month, earlier months not charged yet, the
    prepaid balance left, the price of the extra time so far, and connections."""

    month: MonthMeter
    earlier: tuple[MonthMeter, ...]
    prepaid_left: int
    extra_price: Quote | None
    sells_extra: bool
    connections_used: int
    connections: ConnectionLimit

    @property
    def waiting_extra(self) -> int:
        """Extra minutes of earlier months that the month-end job has not charged yet."""
        return sum(m.extra for m in self.earlier)


def plan_spans(session: Session, organization_id: int, catalog: Catalog) -> list[PlanSpan]:
    return [
        PlanSpan(row.plan, row.start, row.last_day)
        for row in periods(session, organization_id)
        if row.catalog == catalog.code and row.last_day >= row.start
    ]


def time_meter(
    session: Session, organization_id: int, catalog: Catalog, today: date
) -> TimeMeter | None:
    """The organization's time this month, as the month-end job would charge it now; None
    where the catalog counts no time. Five queries, whatever the number of entries."""
    if not counts_time(catalog):
        return None
    month = month_of(today)
    spans = plan_spans(session, organization_id, catalog)
    open_by_month: dict[date, int] = defaultdict(int)
    for day, minutes in session.execute(
        select(TimeEntry.worked_on, func.sum(TimeEntry.minutes))
        .where(
            TimeEntry.organization_id == organization_id,
            TimeEntry.catalog == catalog.code,
            TimeEntry.billable.is_(True),
            TimeEntry.settlement_id.is_(None),
            TimeEntry.session_id.is_(None),
        )
        .group_by(TimeEntry.worked_on)
    ):
        open_by_month[month_of(day)] += int(minutes)
    open_by_month.setdefault(month, 0)
    settled = settled_use(session, [organization_id], list(open_by_month))
    balance = prepaid_balances(session, catalog.code, [organization_id]).get(organization_id, 0)
    months = [
        MonthTime(
            m,
            month_allowance(catalog, spans, m),
            settled.get((organization_id, m), (0, 0, 0))[0],
            minutes,
        )
        for m, minutes in open_by_month.items()
    ]
    splits, prepaid_left = split_time(months, balance)
    meters = {}
    for item, split in zip(sorted(months, key=lambda m: m.month), splits, strict=True):
        used = settled.get((organization_id, item.month), (0, 0, 0))
        meters[item.month] = MonthMeter(
            item.month,
            item.allowance,
            used[0] + split.included,
            used[1] + split.prepaid,
            split.extra + (used[2] if item.month == month else 0),
        )
    current = meters.pop(month)
    plan = _plan_on(spans, today)
    used = session.scalar(
        select(func.count(RemoteConnection.id)).where(
            RemoteConnection.organization_id == organization_id,
            RemoteConnection.month == month,
        )
    )
    return TimeMeter(
        month=current,
        earlier=tuple(m for m in meters.values() if m.month < month and m.extra),
        prepaid_left=prepaid_left,
        extra_price=price_extra(catalog, current.extra),
        sells_extra=extra_service(catalog) is not None,
        connections_used=int(used or 0),
        connections=connection_limit(catalog, plan),
    )


def _plan_on(spans: list[PlanSpan], day: date) -> str | None:
    held = [span for span in spans if span.start <= day <= span.end]
    return max(held, key=lambda s: s.start).plan if held else None


def settled_use(
    session: Session, organization_ids: list[int], months: list[date]
) -> dict[tuple[int, date], tuple[int, int, int]]:
    """Minutes already settled per organization and month: included, prepaid, extra."""
    if not months or not organization_ids:
        return {}
    query = (
        select(
            TimeAllocation.organization_id,
            TimeAllocation.month,
            func.sum(TimeAllocation.included_minutes),
            func.sum(TimeAllocation.prepaid_minutes),
            func.sum(TimeAllocation.extra_minutes),
        )
        .where(TimeAllocation.month.in_(months))
        .group_by(TimeAllocation.organization_id, TimeAllocation.month)
    )
    if len(organization_ids) == 1:
        query = query.where(TimeAllocation.organization_id == organization_ids[0])
    return {
        (org, month): (int(included), int(prepaid), int(extra))
        for org, month, included, prepaid, extra in session.execute(query)
    }


def prepaid_balances(
    session: Session, catalog_name: str, organization_ids: list[int] | None = None
) -> dict[int, int]:
    """Prepaid minutes left per organization (bought less used by settlements)."""
    query = (
        select(HourCredit.organization_id, func.sum(HourCredit.minutes))
        .where(HourCredit.catalog == catalog_name)
        .group_by(HourCredit.organization_id)
    )
    if organization_ids is not None and len(organization_ids) == 1:
        query = query.where(HourCredit.organization_id == organization_ids[0])
    return {org: int(minutes) for org, minutes in session.execute(query)}


def check_month_is_closed(month: date, today: date) -> None:
    if month >= month_of(today):
        raise PlanError(
            "month_not_over",
            "{value} is not over yet",
            "month",
            value=f"{month:%Y-%m}",
        )
