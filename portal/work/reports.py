"""The monthly report: an organization's tickets and time of one month, and its mailing.

:func:`month_report` reads the month's tickets (opened in it, in the catalog's
zone), their targets and first replies in a fixed number of queries, and the
engine counts them (:mod:`portal.plans.reports`). Time is set against the
month's included hours. Organizations whose contract has the catalog's report
unit (iiko's ``monthly-report``) get the report mailed to their recipients on
the first working day of the next month, once (:func:`mail_reports`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import (
    Order,
    Organization,
    ReportMailing,
    ReportRecipient,
    SubscriptionPeriod,
    Ticket,
    TicketMessage,
    TicketTarget,
    TimeEntry,
)
from portal.plans import Catalog
from portal.plans.reports import ReportFigures, TargetFact, TicketFact, figures
from portal.plans.sla import is_working_day
from portal.plans.worktime import last_day, month_allowance, next_month, previous_month
from portal.work.worklog import WorkError, plan_spans

MAX_RECIPIENTS = 20


@dataclass(frozen=True)
class MonthTimeUse:
    """A month's time: included minutes, billable minutes used, of them within the included
    hours, beyond them, and minutes not billed."""

    allowance: int
    billable: int
    not_billed: int

    @property
    def included_used(self) -> int:
        return min(self.allowance, self.billable)

    @property
    def beyond(self) -> int:
        return max(self.billable - self.allowance, 0)


@dataclass(frozen=True)
class MonthReport:
    organization_id: int
    month: date
    figures: ReportFigures
    time: MonthTimeUse


def month_bounds(catalog: Catalog, month: date) -> tuple[datetime, datetime]:
    """The month's first and next month's first moment in the catalog's zone."""
    zone = ZoneInfo(catalog.timezone)
    return (
        datetime.combine(month, time(0), zone),
        datetime.combine(next_month(month), time(0), zone),
    )


def month_report(
    session: Session, organization_id: int, catalog: Catalog, month: date, at: datetime
) -> MonthReport:
    """The organization's report of ``month`` as of ``at``: five queries."""
    start, end = month_bounds(catalog, month)
    tickets = list(
        session.execute(
            select(Ticket.id, Ticket.category, Ticket.opened_at).where(
                Ticket.organization_id == organization_id,
                Ticket.opened_at >= start,
                Ticket.opened_at < end,
            )
        )
    )
    ids = [row.id for row in tickets]
    targets: dict[int, list[TargetFact]] = defaultdict(list)
    first: dict[int, datetime] = {}
    if ids:
        for row in session.execute(
            select(
                TicketTarget.ticket_id,
                TicketTarget.target,
                TicketTarget.due_at,
                TicketTarget.met_at,
                TicketTarget.breached_at,
            ).where(TicketTarget.ticket_id.in_(ids))
        ):
            targets[row.ticket_id].append(
                TargetFact(row.target, row.due_at, row.met_at, row.breached_at)
            )
        first = dict(
            session.execute(
                select(TicketMessage.ticket_id, func.min(TicketMessage.created_at))
                .where(
                    TicketMessage.ticket_id.in_(ids),
                    TicketMessage.from_staff.is_(True),
                    TicketMessage.internal.is_(False),
                    TicketMessage.event.is_(None),
                )
                .group_by(TicketMessage.ticket_id)
            ).all()
        )
    facts = [
        TicketFact(row.category, row.opened_at, first.get(row.id), tuple(targets[row.id]))
        for row in tickets
    ]
    billable, not_billed = session.execute(
        select(
            func.coalesce(func.sum(TimeEntry.minutes).filter(TimeEntry.billable.is_(True)), 0),
            func.coalesce(func.sum(TimeEntry.minutes).filter(TimeEntry.billable.is_(False)), 0),
        ).where(
            TimeEntry.organization_id == organization_id,
            TimeEntry.worked_on >= month,
            TimeEntry.worked_on <= last_day(month),
        )
    ).one()
    allowance = month_allowance(catalog, plan_spans(session, organization_id, catalog), month)
    return MonthReport(
        organization_id=organization_id,
        month=month,
        figures=figures(facts, min(at, end), tuple(catalog.sla_targets)),
        time=MonthTimeUse(allowance, int(billable), int(not_billed)),
    )


# --- recipients ------------------------------------------------------------------------------


def recipients(session: Session, organization_id: int) -> list[ReportRecipient]:
    return list(
        session.scalars(
            select(ReportRecipient)
            .where(ReportRecipient.organization_id == organization_id)
            .order_by(ReportRecipient.email)
            .limit(MAX_RECIPIENTS)
        )
    )


def add_recipient(session: Session, organization_id: int, email: str, now: datetime):
    """Add ``email`` to the report's recipients; commit. WorkError ``recipient_exists`` or
    ``too_many_recipients``."""
    count = session.scalar(
        select(func.count(ReportRecipient.id)).where(
            ReportRecipient.organization_id == organization_id
        )
    )
    if count >= MAX_RECIPIENTS:
        raise WorkError("too_many_recipients", "email")
    session.add(ReportRecipient(organization_id=organization_id, email=email, created_at=now))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise WorkError("recipient_exists", "email") from None


def remove_recipient(session: Session, organization_id: int, recipient_id: int) -> None:
    session.execute(
        ReportRecipient.__table__.delete().where(
            ReportRecipient.id == recipient_id,
            ReportRecipient.organization_id == organization_id,
        )
    )
    session.commit()


# --- mailing ---------------------------------------------------------------------------------


def has_report_unit(catalog: Catalog, order: Order) -> bool:
    """Whether ``order`` (a plan's) bought the catalog's report unit."""
    unit = catalog.work.report_unit
    if unit is None:
        return False
    params = json.loads(order.request).get("params", {})
    try:
        return int(params.get(f"qty.{unit}", "0")) > 0
    except ValueError:
        return False


def report_calendar(catalog: Catalog, plan: str):
    code = catalog.plans[plan].calendar if plan in catalog.plans else None
    return catalog.calendars.get(code) if code else None


def first_working_day(catalog: Catalog, plan: str, month: date) -> date:
    """The first working day of ``month`` on the plan's calendar (the 1st without one)."""
    calendar = report_calendar(catalog, plan)
    day = month
    while calendar is not None and not is_working_day(calendar, day) and day.day < 28:
        day = day.replace(day=day.day + 1)
    return day


def mail_reports(
    session: Session,
    catalog: Catalog,
    *,
    today: date,
    now: datetime,
    mails: Callable[[MonthReport, Organization, list[str]], list[Mail]],
    outbox: Outbox,
) -> list[ReportMailing]:
    """Mail last month's report to the recipients of every organization whose contract
    (a period covering last month) has the report unit, from the first working day of this
    month, once per organization and month; commits each organization's mailing."""
    if catalog.work.report_unit is None:
        return []
    month = previous_month(today)
    rows = session.execute(
        select(SubscriptionPeriod, Order)
        .join(Order, Order.id == SubscriptionPeriod.order_id)
        .where(
            SubscriptionPeriod.catalog == catalog.code,
            SubscriptionPeriod.start <= last_day(month),
            SubscriptionPeriod.end >= month,
        )
    ).all()
    due: dict[int, str] = {}
    for period, order in rows:
        if (
            period.last_day >= month
            and has_report_unit(catalog, order)
            and today >= first_working_day(catalog, period.plan, next_month(month))
        ):
            due[period.organization_id] = period.plan
    if not due:
        return []
    done = set(
        session.scalars(
            select(ReportMailing.organization_id).where(
                ReportMailing.month == month, ReportMailing.organization_id.in_(list(due))
            )
        )
    )
    sent = []
    for organization_id in sorted(set(due) - done):
        organization = session.get(Organization, organization_id)
        addresses = [r.email for r in recipients(session, organization_id)]
        report = month_report(session, organization_id, catalog, month, now)
        mailing = ReportMailing(
            organization_id=organization_id, month=month, sent_at=now, recipients=len(addresses)
        )
        session.add(mailing)
        for mail in mails(report, organization, addresses):  # each with its CSV
            outbox.put(session, mail, now)
        try:
            session.commit()  # one organization at a time: its mailing and its mail together
        except IntegrityError:
            session.rollback()  # another worker mailed it a moment ago
            continue
        sent.append(mailing)
    return sent
