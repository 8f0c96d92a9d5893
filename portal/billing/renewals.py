"""Use cases of renewal reminders: mail each period's reminders 30, 7 and 1 days before it ends.

Each reminder is mailed once: it is recorded (``renewal_reminders``' period and
days before are unique) in the transaction that puts its mail in the outbox, so
running twice, or two runs at once, mails nothing twice. A period that was
renewed is not reminded of. Periods are read in batches, each committed once,
so a run that stops half-way keeps what it committed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from portal.batches import written_in_batches
from portal.models import (
    PAYING_ROLES,
    Order,
    Organization,
    RenewalReminder,
    SubscriptionPeriod,
    User,
)
from portal.plans import Term
from portal.plans.subscriptions import Period

# Reminders before a period ends, in days; each is mailed once.
REMINDER_DAYS = (30, 7, 1)


def reminder_due(days_to_end: int) -> int | None:
    """Which reminder a period ``days_to_end`` days from its end is due for: 30, 7 or 1
    (days before the end), or None.

    The nearest threshold not yet passed: a run missed on the 30th day before
    sends the 30-day reminder on a later day, until the 7-day one takes over.
    """
    if days_to_end < 0:
        return None
    due = [threshold for threshold in REMINDER_DAYS if days_to_end <= threshold]
    return min(due) if due else None


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    locale: str


@dataclass(frozen=True)
class DueReminder:
    """A reminder to mail: the period it is about, as plain values, and who reads it."""

    period_id: int
    organization: str
    catalog: str
    catalog_version: int
    plan: str
    last_day: date
    days_left: int
    days_before: int
    recipients: tuple[Recipient, ...]


def send_reminders(
    session: Session,
    today: date,
    now: datetime,
    mails_for: Callable[[DueReminder], list],
    outbox,
    batch: int = 1000,
) -> list[DueReminder]:
    """Put each due reminder's mail in the outbox once, ``batch`` periods at a time.

    Periods are read in batches by id, as columns; the reminders and their mail
    of a batch are written together and committed once, so a run that stops
    half-way keeps what it committed and the next run goes on from there. Each
    reminder is recorded (``period_id``, ``days_before`` unique), so running
    twice, or two runs at once, mails nothing twice: a batch that meets the
    other run's rows is read again and sends only what is left. A period that
    was renewed (a later period of the same catalog follows it) is not reminded of.
    """

    def write(rows) -> list[DueReminder]:
        due = _due_reminders(session, rows, today)
        if due:
            session.execute(
                insert(RenewalReminder.__table__),
                [
                    {"period_id": r.period_id, "days_before": r.days_before, "sent_at": now}
                    for r in due
                ],
            )
            outbox.put_all(session, (m for r in due for m in mails_for(r)), now)
        return due

    return written_in_batches(
        session,
        lambda after_id: _reminder_candidates(session, today, after_id, batch),
        write,
        lambda rows: rows[-1].id,
        "reminders",
    )


def _reminder_candidates(session: Session, today: date, after_id: int, limit: int) -> list:
    """The next ``limit`` periods after ``after_id`` that end within the reminders' reach,
    as columns, with the catalog version they were bought at."""
    horizon = today + timedelta(days=max(REMINDER_DAYS))
    return list(
        session.execute(
            select(
                SubscriptionPeriod.id,
                SubscriptionPeriod.organization_id,
                SubscriptionPeriod.catalog,
                SubscriptionPeriod.plan,
                SubscriptionPeriod.term,
                SubscriptionPeriod.start,
                SubscriptionPeriod.end,
                Order.catalog_version,
            )
            .join(Order, Order.id == SubscriptionPeriod.order_id)
            .where(
                SubscriptionPeriod.ended_on.is_(None),
                SubscriptionPeriod.end >= today,
                SubscriptionPeriod.end <= horizon,
                SubscriptionPeriod.id > after_id,
            )
            .order_by(SubscriptionPeriod.id)
            .limit(limit)
        )
    )


def _due_reminders(session: Session, rows: list, today: date) -> list[DueReminder]:
    """Of the candidate ``rows``, the reminders due today and not yet sent, with their
    readers: three queries for the whole batch, none per row (a query per row would meet
    a table that grows while the run writes it, which the planner's statistics lag behind)."""
    thresholds = {}
    for row in rows:
        days_to_end = Period(row.plan, _term(row.term), row.start, row.end).days_to_end(today)
        threshold = reminder_due(days_to_end)
        if threshold is not None:
            thresholds[row.id] = (threshold, days_to_end)
    if not thresholds:
        return []
    # The batch's ids are a range (read in id order): ask by range, not by a list of a
    # thousand ids, so each query is the same statement and an index range scan.
    first, last = rows[0].id, rows[-1].id
    in_batch = SubscriptionPeriod.id.between(first, last)
    sent = dict(
        session.execute(
            select(RenewalReminder.period_id, func.min(RenewalReminder.days_before))
            .where(RenewalReminder.period_id.between(first, last))
            .group_by(RenewalReminder.period_id)
        ).all()
    )
    due = [
        row
        for row in rows
        if row.id in thresholds and sent.get(row.id, REMINDER_DAYS[0] + 1) > thresholds[row.id][0]
    ]
    if not due:
        return []
    latest_start = {
        (organization_id, catalog): start
        for organization_id, catalog, start in session.execute(
            select(
                SubscriptionPeriod.organization_id,
                SubscriptionPeriod.catalog,
                func.max(SubscriptionPeriod.start),
            )
            .where(
                SubscriptionPeriod.organization_id.in_(
                    select(SubscriptionPeriod.organization_id).where(in_batch)
                )
            )
            .group_by(SubscriptionPeriod.organization_id, SubscriptionPeriod.catalog)
        )
    }
    # A later period of the same catalog follows it: renewed, nothing to remind of.
    due = [row for row in due if latest_start[(row.organization_id, row.catalog)] <= row.start]
    readers = renewal_readers(session, select(SubscriptionPeriod.organization_id).where(in_batch))
    return [
        DueReminder(
            period_id=row.id,
            organization=readers[row.organization_id][0],
            catalog=row.catalog,
            catalog_version=row.catalog_version,
            plan=row.plan,
            last_day=row.end,
            days_left=thresholds[row.id][1],
            days_before=thresholds[row.id][0],
            recipients=readers[row.organization_id][1],
        )
        for row in due
        if row.organization_id in readers  # nobody left to read it: nothing to send
    ]


def renewal_readers(session: Session, organization_ids) -> dict[int, tuple[str, tuple]]:
    """Each organization's name and who reads its reminders: those who renew (its active
    owner and billing members), else every active user; in their language, else the
    organization's. ``organization_ids`` is a
    subquery of the organizations to read."""
    people: dict[int, tuple[str, list, list]] = {}
    for row in session.execute(
        select(
            Organization.id,
            Organization.name,
            Organization.language,
            User.email,
            User.name.label("user_name"),
            User.locale,
            User.org_role,
        )
        .join(User, User.organization_id == Organization.id)
        .where(Organization.id.in_(organization_ids), User.active.is_(True))
        .order_by(Organization.id, User.id)
    ):
        _name, payers, everyone = people.setdefault(row.id, (row.name, [], []))
        reader = Recipient(row.email, row.user_name, row.locale or row.language or "en")
        everyone.append(reader)
        if row.org_role in PAYING_ROLES:
            payers.append(reader)
    return {
        organization_id: (name, tuple(payers or everyone))
        for organization_id, (name, payers, everyone) in people.items()
    }


@functools.cache
def _term(code: str) -> Term:
    return Term.parse(code)
