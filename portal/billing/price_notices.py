"""Use cases of renewal price notices: a client whose renewal falls after a price change is
told by mail, once, with their old and new renewal prices.

When a version of a catalog is published (in effect now or scheduled), each running period
of that catalog that was not renewed yet and whose renewal day (the day after its end) is on
or after the day the version takes effect is priced for renewal twice: by the version before
it and by the new one. Where the two differ, the period's payers get one mail, recorded
(``price_change_notices``' version and period are unique) in the transaction that puts it
in the outbox, so running twice, or two runs at once, mails nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, aliased

from portal.batches import written_in_batches
from portal.billing.orders import price_order
from portal.billing.renewals import Recipient, renewal_readers
from portal.catalog.services import newest_version
from portal.models import CatalogVersion, Order, PriceChangeNotice, SubscriptionPeriod
from portal.plans import Catalog, PlanError


@dataclass(frozen=True)
class PriceNotice:
    """A renewal whose price changes with ``version``: the period, as plain values, the two
    prices and who reads it."""

    period_id: int
    organization: str
    catalog: str
    version: int
    plan: str
    last_day: date
    renews_on: date
    changes_on: date
    currency: str
    old_total: Decimal
    new_total: Decimal
    recipients: tuple[Recipient, ...]
    # Told before the version takes effect: the old price holds for orders until then.
    scheduled: bool = False


def send_price_notices(
    session: Session,
    name: str,
    now: datetime,
    catalog_of: Callable[[int], Catalog],
    mails_for: Callable[[PriceNotice], list],
    outbox,
    batch: int = 500,
) -> list[PriceNotice]:
    """Mail each renewal whose price the newest version of catalog ``name`` changes, once;
    ``batch`` periods at a time, each batch committed once (a run that stops half-way keeps
    what it committed). ``catalog_of(version)`` reads a published version."""
    newest = newest_version(session, name)
    if newest is None or newest.version == 1:
        return []
    new, old = catalog_of(newest.version), catalog_of(newest.version - 1)
    zone = ZoneInfo(new.timezone)
    today = now.astimezone(zone).date()
    changes_on = newest.effective_at.astimezone(zone).date()

    def write(rows) -> list[PriceNotice]:
        notices = _priced(session, newest, rows, old, new, today, changes_on)
        if notices:
            session.execute(
                insert(PriceChangeNotice.__table__),
                [
                    {"version_id": newest.id, "period_id": n.period_id, "sent_at": now}
                    for n in notices
                ],
            )
            outbox.put_all(session, (m for n in notices for m in mails_for(n)), now)
        return notices

    return written_in_batches(
        session,
        lambda after_id: _candidates(session, newest, today, changes_on, after_id, batch),
        write,
        lambda rows: rows[-1][0].id,
        f"price notices of {name} v{newest.version}",
    )


def _candidates(
    session: Session,
    version: CatalogVersion,
    today: date,
    changes_on: date,
    after_id: int,
    limit: int,
) -> list:
    """The next ``limit`` running periods after ``after_id`` renewed on or after the change,
    not renewed yet and not told of ``version``, with their orders' requests."""
    later = aliased(SubscriptionPeriod)
    return session.execute(
        select(SubscriptionPeriod, Order.request)
        .join(Order, Order.id == SubscriptionPeriod.order_id)
        .where(
            SubscriptionPeriod.catalog == version.name,
            # Bought at an earlier version: a client who ordered at these prices has no
            # change to be told of.
            Order.catalog_version < version.version,
            SubscriptionPeriod.ended_on.is_(None),
            SubscriptionPeriod.end >= today,
            SubscriptionPeriod.end >= changes_on - timedelta(days=1),
            # Not renewed yet: no later period of the same catalog follows it.
            ~select(later.id)
            .where(
                later.organization_id == SubscriptionPeriod.organization_id,
                later.catalog == SubscriptionPeriod.catalog,
                later.start > SubscriptionPeriod.start,
            )
            .exists(),
            ~select(PriceChangeNotice.id)
            .where(
                PriceChangeNotice.version_id == version.id,
                PriceChangeNotice.period_id == SubscriptionPeriod.id,
            )
            .exists(),
            SubscriptionPeriod.id > after_id,
        )
        .order_by(SubscriptionPeriod.id)
        .limit(limit)
    ).all()


def _priced(
    session: Session,
    version: CatalogVersion,
    rows: list,
    old: Catalog,
    new: Catalog,
    today: date,
    changes_on: date,
) -> list[PriceNotice]:
    """Of the candidate ``rows``, the renewals whose price differs, with who reads them."""
    priced = []
    for period, request in rows:
        params = json.loads(request).get("params") or {"plan": period.plan, "term": period.term}
        try:
            before = price_order(old, params, period, today).quote
            after = price_order(new, params, period, today).quote
        except PlanError:
            continue  # not renewable as it was bought (a plan or term no longer offered)
        if before.total != after.total and before.total is not None and after.total is not None:
            priced.append((period, before, after))
    if not priced:
        return []
    readers = renewal_readers(
        session,
        select(func.distinct(SubscriptionPeriod.organization_id)).where(
            SubscriptionPeriod.id.in_([period.id for period, _b, _a in priced])
        ),
    )
    return [
        PriceNotice(
            period_id=period.id,
            organization=readers[period.organization_id][0],
            catalog=version.name,
            version=version.version,
            plan=period.plan,
            last_day=period.end,
            renews_on=after.start,
            changes_on=changes_on,
            currency=new.currency,
            old_total=before.total,
            new_total=after.total,
            recipients=readers[period.organization_id][1],
            scheduled=changes_on > today,
        )
        for period, before, after in priced
        if period.organization_id in readers
    ]
