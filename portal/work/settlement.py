"""The month-end use case: each organization's billable time of a closed month, settled once.

For a closed month, every billable entry not settled yet and worked on or
before its last day (late entries of earlier months included, so nothing is
lost) is split by the engine: the included hours of its month, then the
prepaid balance, then extra time. Extra time becomes one order priced by the
engine (KBS: the cheapest mix of 5-hour bundles and single hours), with its
bank-transfer invoice where the organization has the details for one, and a
mail to the people who pay, all in one transaction.

Once: a settlement is unique per organization and month, so a second run finds
nothing to do. Nothing is counted twice or lost: the time entries are locked
for the length of the run (PostgreSQL: ``LOCK TABLE ... SHARE ROW EXCLUSIVE``;
SQLite: its one write lock), so an entry logged meanwhile waits and goes into
the next month's run. The run reads a fixed number of queries and writes in
bulk, whatever the number of organizations: 10,000 organizations with 100,000
entries settle in seconds (``bench/worktime.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.orm import Session

from portal.billing.documents import new_invoice, next_numbers
from portal.billing.invoices import can_be_invoiced
from portal.billing.orders import Labels, time_order
from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import (
    Document,
    HourCredit,
    Order,
    Organization,
    SubscriptionPeriod,
    TimeAllocation,
    TimeEntry,
    TimeSettlement,
)
from portal.plans import Catalog
from portal.plans.worktime import (
    MonthTime,
    PlanSpan,
    last_day,
    month_allowance,
    month_of,
    price_extra,
    split_time,
)
from portal.work.worklog import check_month_is_closed, prepaid_balances, settled_use


@dataclass(frozen=True)
class Settled:
    """One organization's settlement of the month: the order and invoice of its extra
    time, if it had any."""

    organization_id: int
    settlement: TimeSettlement
    order: Order | None
    invoice: Document | None


def lock_time_entries(session: Session) -> None:
    """Hold new and changed time entries back until the commit (see the module's text)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE time_entries IN SHARE ROW EXCLUSIVE MODE"))
    else:
        session.execute(
            update(TimeEntry)
            .where(TimeEntry.id == -1)
            .values(id=TimeEntry.id)
            .execution_options(synchronize_session=False)
        )


def settle_month(
    session: Session,
    catalog: Catalog,
    month: date,
    *,
    today: date,
    now: datetime,
    labels: Labels,
    titles: Callable[[date], dict[str, str]],
    due_days: int,
    mails: Callable[[list[Settled]], list[Mail]] | None = None,
    outbox: Outbox | None = None,
) -> list[Settled]:
    """Settle ``month`` (its first day) for every organization of ``catalog``, once; commit.

    Raises :class:`PlanError` ``month_not_over`` for the current month or a later one.
    """
    check_month_is_closed(month, today)
    lock_time_entries(session)
    end = last_day(month)
    done = set(
        session.scalars(
            select(TimeSettlement.organization_id).where(
                TimeSettlement.catalog == catalog.code, TimeSettlement.month == month
            )
        )
    )
    open_minutes: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for organization_id, day, minutes in session.execute(
        select(TimeEntry.organization_id, TimeEntry.worked_on, func.sum(TimeEntry.minutes))
        .where(
            TimeEntry.catalog == catalog.code,
            TimeEntry.billable.is_(True),
            TimeEntry.settlement_id.is_(None),
            TimeEntry.session_id.is_(None),
            TimeEntry.worked_on <= end,
        )
        .group_by(TimeEntry.organization_id, TimeEntry.worked_on)
    ):
        if organization_id not in done:
            open_minutes[organization_id][month_of(day)] += int(minutes)
    if not open_minutes:
        session.commit()
        return []
    organization_ids = sorted(open_minutes)
    months = sorted({m for by_month in open_minutes.values() for m in by_month})
    spans = _spans(session, catalog, months[0], end)
    settled = settled_use(session, organization_ids, months)
    balances = prepaid_balances(session, catalog.code)
    organizations = {
        org.id: org
        for org in session.scalars(
            select(Organization).where(Organization.id.in_(organization_ids))
        )
    }
    cached_labels = _memoized(labels)
    title = titles(month)
    results = []
    allocations = []
    credits = []
    for organization_id in organization_ids:
        by_month = open_minutes[organization_id]
        items = [
            MonthTime(
                m,
                month_allowance(catalog, spans.get(organization_id, ()), m),
                settled.get((organization_id, m), (0, 0, 0))[0],
                minutes,
            )
            for m, minutes in by_month.items()
        ]
        splits, _left = split_time(items, balances.get(organization_id, 0))
        extra = sum(split.extra for split in splits)
        prepaid = sum(split.prepaid for split in splits)
        priced = price_extra(catalog, extra)
        order = None
        if priced is not None:
            order = time_order(
                priced,
                kind="time",
                organization_id=organization_id,
                user_id=None,
                labels=cached_labels,
                titles=title,
                details={"month": f"{month:%Y-%m}", "minutes": extra},
                coverage=(month, end),
                now=now,
            )
        settlement = TimeSettlement(
            organization_id=organization_id,
            catalog=catalog.code,
            month=month,
            created_at=now,
            extra_minutes=extra,
            order=order,
        )
        allocations.append((settlement, splits))
        if prepaid:
            credits.append((settlement, prepaid))
        results.append(Settled(organization_id, settlement, order, None))
    session.add_all(r.settlement for r in results)
    session.flush()
    session.add_all(
        TimeAllocation(
            settlement_id=settlement.id,
            organization_id=settlement.organization_id,
            month=split.month,
            included_minutes=split.included,
            prepaid_minutes=split.prepaid,
            extra_minutes=split.extra,
        )
        for settlement, splits in allocations
        for split in splits
    )
    session.add_all(
        HourCredit(
            organization_id=settlement.organization_id,
            catalog=catalog.code,
            minutes=-prepaid,
            settlement_id=settlement.id,
            created_at=now,
        )
        for settlement, prepaid in credits
    )
    results = _invoice(session, results, organizations, today, now, due_days)
    session.execute(
        update(TimeEntry)
        .where(
            TimeEntry.catalog == catalog.code,
            TimeEntry.billable.is_(True),
            TimeEntry.settlement_id.is_(None),
            TimeEntry.session_id.is_(None),
            TimeEntry.worked_on <= end,
            TimeEntry.organization_id.not_in(done) if done else True,
        )
        .values(
            settlement_id=select(TimeSettlement.id)
            .where(
                and_(
                    TimeSettlement.organization_id == TimeEntry.organization_id,
                    TimeSettlement.catalog == catalog.code,
                    TimeSettlement.month == month,
                )
            )
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    if mails is not None and outbox is not None:
        outbox.put_all(session, mails([r for r in results if r.order is not None]), now)
    session.commit()
    return results


def _spans(session: Session, catalog: Catalog, start: date, end: date):
    spans: dict[int, list[PlanSpan]] = defaultdict(list)
    for row in session.scalars(
        select(SubscriptionPeriod).where(
            SubscriptionPeriod.catalog == catalog.code,
            SubscriptionPeriod.start <= end,
            SubscriptionPeriod.end >= start,
        )
    ):
        if row.last_day >= row.start:
            spans[row.organization_id].append(PlanSpan(row.plan, row.start, row.last_day))
    return spans


def _invoice(session, results, organizations, today, now, due_days) -> list[Settled]:
    """Each extra-time order invoiced for a bank transfer where the organization has the
    details an invoice names its payer by; the others are paid from the order's page."""
    invoiceable = [
        r
        for r in results
        if r.order is not None and can_be_invoiced(organizations[r.organization_id])
    ]
    numbers = next_numbers(session, "invoice", len(invoiceable))
    out = []
    invoiced = {}
    for result, number in zip(invoiceable, numbers, strict=True):
        order = result.order
        order.payment_method = "bank-transfer"
        invoiced[result.organization_id] = new_invoice(
            order,
            organizations[result.organization_id],
            number=number,
            issued_at=now,
            due_on=today + timedelta(days=due_days),
        )
    session.add_all(invoiced.values())
    for result in results:
        out.append(
            Settled(
                result.organization_id,
                result.settlement,
                result.order,
                invoiced.get(result.organization_id),
            )
        )
    return out


def _memoized(labels: Labels) -> Labels:
    """Labels of lines that repeat (every organization with 2 extra hours has the same)."""
    seen: dict[tuple, dict[str, str]] = {}

    def cached(line, quote):
        key = (line.code, line.kind, line.quantity, line.amount)
        if key not in seen:
            seen[key] = labels(line, quote)
        return seen[key]

    return cached


def settlements_of(session: Session, organization_id: int, catalog_name: str):
    """The organization's settled months, newest first (a query to page through)."""
    return (
        select(TimeSettlement)
        .where(
            TimeSettlement.organization_id == organization_id,
            TimeSettlement.catalog == catalog_name,
        )
        .order_by(TimeSettlement.month.desc())
    )
