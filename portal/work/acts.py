"""Acts of completed work (акт виконаних робіт, акт выполненных работ), one per month.

Where the catalog says so (``[work] acts``), each month with paid service gets
an act for each organization: the services of the month, their amounts and the
hours worked, numbered from its own gap-free sequence (``ACT-000001``) in the
transaction that issues it, and mailed with its PDF in the client's language.

What a month's act lists: the orders whose service falls in the month and was
paid or is owed. Time, sessions and requests are owed once delivered (the
order's coverage starts in the month, paid or awaiting payment); a plan's
period and hours bought in advance count once paid (their coverage starts in
the month). Each order appears in one act. Hours worked (included, prepaid,
extra) are stated beside them. A month with nothing paid has no act.

Once: an act is unique per organization and month.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from portal.billing.documents import bill_to, locked_sequence, next_numbers
from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import PLAN_ORDER_KINDS, Act, Order, Organization, TimeEntry
from portal.plans import Catalog
from portal.plans.worktime import last_day
from portal.work.worklog import check_month_is_closed

DELIVERED_KINDS = ("time", "session", "request")
OWED = ("pending_payment", "paid", "fulfilled")
PAID = ("paid", "fulfilled")


def month_orders(catalog_name: str, month: date, organization_id: int | None = None):
    """The orders an act of ``month`` lists (see the module's text), oldest first."""
    end = last_day(month)
    query = select(Order).where(
        Order.catalog == catalog_name,
        Order.coverage_start >= month,
        Order.coverage_start <= end,
        or_(
            and_(Order.kind.in_(DELIVERED_KINDS), Order.status.in_(OWED)),
            and_(Order.kind.in_((*PLAN_ORDER_KINDS, "hours")), Order.status.in_(PAID)),
        ),
    )
    if organization_id is not None:
        query = query.where(Order.organization_id == organization_id)
    return query.order_by(Order.organization_id, Order.created_at, Order.id)


def issue_acts(
    session: Session,
    catalog: Catalog,
    month: date,
    *,
    today: date,
    now: datetime,
    mails: Callable[[Act], list[Mail]] | None = None,
    outbox: Outbox | None = None,
) -> list[Act]:
    """Issue the acts of ``month`` not issued yet, numbered in one go; commit.

    Raises :class:`PlanError` ``month_not_over`` for a month not over yet.
    """
    if not catalog.work.acts:
        return []
    check_month_is_closed(month, today)
    locked_sequence(session, "act")  # a second run at once waits here, then finds them issued
    issued = set(
        session.scalars(
            select(Act.organization_id).where(Act.catalog == catalog.code, Act.month == month)
        )
    )
    by_organization: dict[int, list[Order]] = defaultdict(list)
    for order in session.scalars(month_orders(catalog.code, month)):
        if order.organization_id not in issued and order.total > 0:
            by_organization[order.organization_id].append(order)
    if not by_organization:
        session.commit()
        return []
    hours = _hours_worked(session, catalog.code, month, list(by_organization))
    organizations = {
        org.id: org
        for org in session.scalars(
            select(Organization).where(Organization.id.in_(list(by_organization)))
        )
    }
    numbers = next_numbers(session, "act", len(by_organization))
    acts = []
    for number, (organization_id, month_orders_) in zip(
        numbers, sorted(by_organization.items()), strict=True
    ):
        total = sum((Decimal(o.total) for o in month_orders_), Decimal(0))
        act = Act(
            number=number,
            organization_id=organization_id,
            catalog=catalog.code,
            catalog_version=max(o.catalog_version for o in month_orders_),
            month=month,
            issued_at=now,
            lines=json.dumps(
                {
                    "orders": [
                        {
                            "order": o.id,
                            "kind": o.kind,
                            "lines": json.loads(o.lines),
                            "total": str(o.total),
                            "title": json.loads(o.request).get("title"),
                            "plan": o.plan,
                            "term": o.term,
                            "coverage": [o.coverage_start.isoformat(), o.coverage_end.isoformat()],
                        }
                        for o in month_orders_
                    ],
                    "minutes": hours.get(organization_id, {"billable": 0, "not_billed": 0}),
                },
                ensure_ascii=False,
            ),
            total=total,
            currency=catalog.currency,
            **bill_to(organizations[organization_id]),
        )
        acts.append(act)
    session.add_all(acts)
    session.flush()
    if mails is not None and outbox is not None:
        for act in acts:
            for mail in mails(act):  # one by one: they carry the act's PDF
                outbox.put(session, mail, now)
    session.commit()
    return acts


def _hours_worked(session, catalog_name, month, organization_ids):
    wanted = set(organization_ids)
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"billable": 0, "not_billed": 0})
    for organization_id, billable, minutes in session.execute(
        select(TimeEntry.organization_id, TimeEntry.billable, func.sum(TimeEntry.minutes))
        .where(
            TimeEntry.catalog == catalog_name,
            TimeEntry.worked_on >= month,
            TimeEntry.worked_on <= last_day(month),
        )
        .group_by(TimeEntry.organization_id, TimeEntry.billable)
    ):
        if organization_id in wanted:
            out[organization_id]["billable" if billable else "not_billed"] += int(minutes)
    return out


def act_document(act: Act) -> dict:
    return json.loads(act.lines)


def acts_of(organization_id: int):
    """The organization's acts, newest first (a query to page through)."""
    return select(Act).where(Act.organization_id == organization_id).order_by(Act.month.desc())
