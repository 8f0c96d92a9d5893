"""Use cases of orders: price, place, cancel, fulfil and refund an organization's orders.

Every price comes from the plan engine and is locked into the order with the
catalog version it was priced from. Money is never lost or counted twice:

- a paid order creates exactly one period (``subscription_periods.order_id``
  is unique, and :func:`fulfil` does nothing to an order already fulfilled);
- an organization has one order of a catalog awaiting payment at a time (a
  unique index decides, see :func:`place_order`), and an order is paid one way,
  card or bank transfer, decided once by :func:`claim_payment_method`;
- a card payment's receipt is numbered by :mod:`portal.billing.documents` in
  the fulfilment's own transaction.

The organization's periods are read here; :mod:`portal.billing.invoices` and
:mod:`portal.billing.card` build on these use cases.

Functions that change something take the session and commit once, except
:func:`fulfil`, which is a step of the use cases that call it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.audit import Actor, record
from portal.billing.documents import bill_to, documents_of, next_number
from portal.locking import locked_row
from portal.models import (
    PLAN_ORDER_KINDS,
    Document,
    HourCredit,
    Order,
    SubscriptionPeriod,
    Visit,
)
from portal.plans import Catalog, PlanError, Quote, Term, parse_quote_request, quote
from portal.plans.money import round_money
from portal.plans.pricing import Line
from portal.plans.requests import PlanQuoteRequest, ServiceQuoteRequest, parse_date
from portal.plans.subscriptions import (
    Period,
    Proration,
    check_start,
    is_orderable,
    renewal_request,
    renewal_start,
    upgrade,
)

# What the client may ask for in an order; the rest (start, the previous period) the
# portal decides from the organization's own periods.
ORDER_PARAMETERS = frozenset({"plan", "term", "billing", "licence_value", "start"})

# A line's label in each language, written into the order when it is placed.
Labels = Callable[[Line, Quote], dict[str, str]]


class BillingError(ValueError):
    """Something a client or staff member asked that cannot be done; ``code`` says what."""

    def __init__(self, code: str, order: Order | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.order = order


# --- periods ---------------------------------------------------------------------------------


def periods(session: Session, organization_id: int) -> list[SubscriptionPeriod]:
    """The organization's periods, latest first, each with its order (one query)."""
    return list(
        session.scalars(
            select(SubscriptionPeriod)
            .where(SubscriptionPeriod.organization_id == organization_id)
            .options(joinedload(SubscriptionPeriod.order))
            .order_by(SubscriptionPeriod.end.desc(), SubscriptionPeriod.start.desc())
        )
    )


def period_on(
    session: Session, organization_id: int, catalog: Catalog, day: date
) -> SubscriptionPeriod | None:
    """The period of ``catalog`` covering ``day``: of those that do, the one that started
    last (an upgrade's, over the one it cut short); a renewal paid early, which starts
    later, does not hide it. One query."""
    rows = session.scalars(
        select(SubscriptionPeriod).where(
            SubscriptionPeriod.organization_id == organization_id,
            SubscriptionPeriod.catalog == catalog.code,
            SubscriptionPeriod.start <= day,
            SubscriptionPeriod.end >= day,
        )
    ).all()
    running = [row for row in rows if row.last_day >= day and row.plan in catalog.plans]
    return max(running, key=lambda row: (row.start, row.last_day), default=None)


def latest_period(
    session: Session, organization_id: int, catalog_name: str
) -> SubscriptionPeriod | None:
    """The period of ``catalog_name`` that ends last (an upgrade's period over the one it cut)."""
    return latest_of(periods(session, organization_id), catalog_name)


def latest_of(rows: list[SubscriptionPeriod], catalog_name: str) -> SubscriptionPeriod | None:
    """Among ``rows``, the period of ``catalog_name`` that ends last."""
    found = [p for p in rows if p.catalog == catalog_name]
    return max(found, key=lambda p: (p.last_day, p.start), default=None)


def current_period(session: Session, organization_id: int, catalog_name: str) -> Period | None:
    """The period a new order of ``catalog_name`` would follow, as the engine sees it."""
    row = latest_period(session, organization_id, catalog_name)
    return as_period(row) if row is not None else None


def as_period(row: SubscriptionPeriod) -> Period:
    """The engine's view of a stored period: up to its last covered day."""
    return Period(row.plan, Term.parse(row.term), row.start, row.last_day)


def order_request(catalog: Catalog, order: Order, today: date) -> PlanQuoteRequest | None:
    """The engine request that priced ``order``: its units, billing and licence value.

    None for an upgrade, which was priced by its proration, not by a request.
    """
    stored = json.loads(order.request)
    if "params" not in stored:
        return None
    asked = parse_quote_request(catalog, stored["params"], today)
    assert isinstance(asked, PlanQuoteRequest)
    return asked


# --- orders ----------------------------------------------------------------------------------


def engine_params(request: PlanQuoteRequest) -> dict[str, str]:
    """``request`` as the engine's flat parameters (those of ``/api/v1/quote``)."""
    params = {"plan": request.plan, "start": request.start.isoformat()}
    if request.term is not None:
        params["term"] = request.term.code
    if request.billing:
        params["billing"] = request.billing
    for unit, quantity in request.quantities.items():
        params[f"qty.{unit}"] = str(quantity)
    if request.licence_value is not None:
        params["licence_value"] = str(request.licence_value)
    if request.previous_plan and request.previous_end:
        params["previous_plan"] = request.previous_plan
        params["previous_end"] = request.previous_end.isoformat()
    return params


@dataclass(frozen=True)
class PricedOrder:
    """What an order would lock: the quote, and whether it renews ``previous`` or upgrades it."""

    kind: str
    quote: Quote
    request: PlanQuoteRequest | None
    previous: SubscriptionPeriod | None
    proration: Proration | None = None
    # The end of a period the client said they renew, which the portal does not know.
    declared_end: date | None = None


def price_order(
    catalog: Catalog, params: dict[str, str], previous: SubscriptionPeriod | None, today: date
) -> PricedOrder:
    """Price a new order for ``params`` (plan, term, options) after the ``previous`` period.

    With a previous period in the catalog the order renews it: it starts the day
    after it ends (or today if that has passed) and gets loyalty and multi-year
    prices when continuous; a different plan takes effect then too. Without one
    it starts on the asked ``start`` (today by default, never in the past).

    ``declared_end`` is the end of a period the client says they renew (chosen
    so on the comparison page) but that the portal has no record of: renewal
    prices need a period bought here, so the order is priced as a new period,
    starting the day after that end (today at the earliest).

    Raises :class:`PlanError` for anything the engine refuses, and
    ``not_orderable`` for plans that are not bought online for a term.
    """
    asked_params = {
        k: v for k, v in params.items() if k in ORDER_PARAMETERS or k.startswith("qty.")
    }
    declared_end = None
    if previous is not None:
        asked_params.pop("start", None)
    elif params.get("declared_end"):
        declared_end = parse_date(params["declared_end"], "declared_end")
    asked = parse_quote_request(catalog, asked_params, today)
    if declared_end is not None and "start" not in asked_params and asked.term is not None:
        asked = replace(asked, start=renewal_start(declared_end, asked.term, today))
    renewing = previous.plan if previous is not None else None
    plan = catalog.plans.get(getattr(asked, "plan", None) or "")
    if plan is not None and plan.archived and renewing != plan.code:
        raise PlanError(
            "plan_archived",
            "Plan {value} is no longer offered to new clients",
            "plan",
            value=plan.code,
        )
    if isinstance(asked, ServiceQuoteRequest) or not is_orderable(catalog, asked.plan, renewing):
        raise PlanError(
            "not_orderable", "Plan {value} is not ordered online", "plan", value=params.get("plan")
        )
    if asked.term is None:
        raise PlanError("missing_parameter", "Choose a term", "term")
    if previous is not None:
        request = renewal_request(as_period(previous), asked.plan, asked.term, today, asked)
        kind = "renewal"
    else:
        check_start(asked.start, today)
        request, kind = asked, "new"
    priced = quote(catalog, request)
    if priced.on_request:
        raise PlanError(
            "not_orderable", "Plan {value} is not ordered online", "plan", value=asked.plan
        )
    return PricedOrder(
        kind=kind, quote=priced, request=request, previous=previous, declared_end=declared_end
    )


def price_upgrade(
    catalog: Catalog, period: SubscriptionPeriod, new_plan: str, today: date
) -> PricedOrder:
    """Price moving ``period`` to ``new_plan`` today, with the options its order was bought with.

    Raises :class:`PlanError` (``not_an_upgrade``, ``period_over``...).
    """
    options = order_request(catalog, period.order, today)
    upgraded, proration = upgrade(catalog, as_period(period), new_plan, today, options)
    return PricedOrder(
        kind="upgrade", quote=upgraded, request=None, previous=period, proration=proration
    )


def pending_order(session: Session, organization_id: int, catalog_name: str) -> Order | None:
    return session.scalars(
        select(Order).where(
            Order.organization_id == organization_id,
            Order.catalog == catalog_name,
            Order.status == "pending_payment",
        )
    ).first()


def place_order(
    session: Session,
    priced: PricedOrder,
    *,
    organization_id: int,
    user_id: int | None,
    labels: Labels,
    now: datetime,
) -> Order:
    """Lock ``priced`` into a new order awaiting payment, and commit.

    Raises :class:`BillingError` ``order_pending`` (with that order) while
    another order of the catalog awaits payment: two renewals paid side by side
    would buy the same days twice. The database decides (a unique index on the
    organization and catalog of pending orders), so two confirmations racing
    each other cannot both get through.
    """
    priced_quote = priced.quote
    if priced.proration is not None:
        stored = {"upgrade": _proration_document(priced.proration)}
    else:
        stored = {"params": engine_params(priced.request)}
    order = Order(
        organization_id=organization_id,
        placed_by_id=user_id,
        catalog=priced_quote.catalog,
        catalog_version=priced_quote.catalog_version,
        kind=priced.kind,
        plan=priced_quote.code,
        term=priced_quote.term.code,
        request=json.dumps(stored, sort_keys=True),
        lines=_locked_lines(priced_quote, labels),
        total=priced_quote.total,
        currency=priced_quote.currency,
        coverage_start=priced_quote.coverage[0],
        coverage_end=priced_quote.coverage[1],
        previous_period_id=priced.previous.id if priced.previous is not None else None,
        status="pending_payment",
        created_at=now,
        checkout_key=secrets.token_hex(16),
    )
    session.add(order)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        waiting = pending_order(session, organization_id, priced_quote.catalog)
        if waiting is None:
            raise
        raise BillingError("order_pending", waiting) from None
    return order


# --- orders of time: extra hours, prepaid hours, remote sessions, one-off requests -------------

TIME_ORDER_KINDS = ("time", "hours", "session", "request", "visit")


def time_order(
    priced_quote: Quote,
    *,
    kind: str,
    organization_id: int,
    user_id: int | None,
    labels: Labels,
    titles: dict[str, str],
    details: dict,
    coverage: tuple[date, date],
    now: datetime,
) -> Order:
    """A new order awaiting payment for time priced by the engine (not yet added).

    ``titles`` name it in each language (``Extra specialist time, November 2026``);
    ``details`` are what it is for (minutes, the month, the session), kept with it.
    """
    if kind not in TIME_ORDER_KINDS:
        raise ValueError(f"not an order of time: {kind}")
    return Order(
        organization_id=organization_id,
        placed_by_id=user_id,
        catalog=priced_quote.catalog,
        catalog_version=priced_quote.catalog_version,
        kind=kind,
        plan=priced_quote.code,
        term="",
        request=json.dumps({"time": details, "title": titles}, sort_keys=True, ensure_ascii=False),
        lines=_locked_lines(priced_quote, labels),
        total=priced_quote.total,
        currency=priced_quote.currency,
        coverage_start=coverage[0],
        coverage_end=coverage[1],
        status="pending_payment",
        created_at=now,
        checkout_key=secrets.token_hex(16),
    )


def time_details(order: Order) -> dict:
    """What an order of time is for, as it was placed."""
    return json.loads(order.request).get("time", {})


def time_title(order: Order, locale: str, fallback: str) -> str | None:
    titles = json.loads(order.request).get("title") or {}
    return titles.get(locale) or titles.get(fallback) or next(iter(titles.values()), None)


def _locked_lines(priced_quote: Quote, labels: Labels) -> str:
    return json.dumps(
        [
            {
                "code": line.code,
                "kind": line.kind,
                "amount": str(line.amount),
                "label": labels(line, priced_quote),
            }
            for line in priced_quote.lines
        ],
        ensure_ascii=False,
    )


def _proration_document(proration: Proration) -> dict:
    return {
        "old_plan": proration.old_plan,
        "new_plan": proration.new_plan,
        "term": proration.term.code,
        "old_price": str(proration.old_price),
        "new_price": str(proration.new_price),
        "days_left": proration.days_left,
        "days": proration.days,
        "amount": str(proration.amount),
    }


@dataclass(frozen=True)
class OrderLine:
    code: str
    kind: str
    amount: Decimal
    labels: dict[str, str]

    def label(self, locale: str, fallback: str) -> str:
        return self.labels.get(locale) or self.labels.get(fallback) or self.code


def order_lines(order: Order) -> list[OrderLine]:
    """The lines locked into ``order``, with their labels in every language."""
    return [
        OrderLine(item["code"], item["kind"], Decimal(item["amount"]), item["label"])
        for item in json.loads(order.lines)
    ]


def order_total(order: Order) -> Decimal:
    """The locked total, at its currency's decimals (rials have none)."""
    return round_money(Decimal(order.total), order.currency)


def order_proration(order: Order) -> dict | None:
    """An upgrade's arithmetic, as locked: prices, days left, days, amount."""
    return json.loads(order.request).get("upgrade")


def organization_order(
    session: Session, organization_id: int | None, order_id: int
) -> Order | None:
    """Order ``order_id`` if it belongs to ``organization_id`` (None: any, for staff)."""
    order = session.get(Order, order_id)
    if order is None or (organization_id is not None and order.organization_id != organization_id):
        return None
    return order


def order_list(organization_id: int):
    """The organization's orders, newest first (a query to page through)."""
    return (
        select(Order)
        .where(Order.organization_id == organization_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )


def cancel_order(session: Session, order: Order, now: datetime) -> None:
    """The client gives up an order awaiting payment; its open invoice is void.

    The order's row is locked and read afresh first: a payment fulfilling it at the
    same moment (the webhook, staff marking the invoice paid) goes first or finds it
    cancelled, never both. A card checkout must be closed before (``card.close_checkout``).
    """
    order = locked_order(session, order.id)
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    _void(session, order, now)
    session.commit()


def void_pending_order(session: Session, order_id: int, now: datetime) -> bool:
    """Cancel order ``order_id`` if it still awaits payment, within the caller's
    transaction (a visit called off takes its unpaid order with it); whether it did."""
    order = locked_order(session, order_id)
    if order.status != "pending_payment":
        return False
    _void(session, order, now)
    return True


def _void(session: Session, order: Order, now: datetime) -> None:
    order.status = "cancelled"
    order.closed_at = now
    for document in documents_of(session, order):
        if document.kind == "invoice" and document.status == "open":
            document.status = "void"
    release_visit(session, order, now)


def release_visit(session: Session, order: Order, now: datetime) -> None:
    """An on-site visit's order closed unpaid (cancelled, its invoice or checkout expired):
    the visit is off too, its technician's time and the free hours it used are free again.
    Nothing when the visit was called off first (it is what cancelled the order)."""
    if order.kind != "visit":
        return
    session.execute(
        update(Visit)
        .where(Visit.order_id == order.id, Visit.status.in_(("requested", "booked")))
        .values(status="cancelled", cancelled_at=now, updated_at=now, sequence=Visit.sequence + 1)
        .execution_options(synchronize_session=False)
    )


def claim_payment_method(session: Session, order: Order, method: str) -> None:
    """Decide that ``order`` is paid by ``method`` (``card``, ``bank-transfer``), once.

    One conditional UPDATE decides, in the caller's transaction: of a card
    payment and an invoice asked for at the same moment, the one whose update
    goes first wins and the other waits for it, then finds the method taken.
    Raises :class:`BillingError` ``order_closed``, ``paying_by_card`` or
    ``paying_by_invoice``.
    """
    claimed = session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.status == "pending_payment",
            or_(Order.payment_method.is_(None), Order.payment_method == method),
        )
        .values(payment_method=method)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        order.payment_method = method
        return
    session.refresh(order)  # what decided it (nothing was changed: the caller rolls back)
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    raise BillingError(
        "paying_by_card" if order.payment_method == "card" else "paying_by_invoice", order
    )


# --- fulfilment ------------------------------------------------------------------------------


def fulfil(
    session: Session,
    order: Order,
    *,
    method: str,
    now: datetime,
    reference: str | None = None,
) -> bool:
    """Record ``order`` paid and create its one period; True if it happened now.

    An order of time creates no period: prepaid hours (``hours``) join the balance;
    extra time, sessions and requests were delivered already.
    An order already fulfilled is left alone (False). An upgrade cuts the
    period it replaces short the day before the new one starts. A card
    payment gets a numbered receipt. The caller commits; should two callers
    race, the period's unique order id fails one of them, which rolls back.
    """
    if order.status in ("paid", "fulfilled"):
        return False
    order.status = "paid"
    order.paid_at = now
    order.payment_method = method
    if reference:
        order.stripe_payment_intent = reference
    if order.kind in PLAN_ORDER_KINDS:
        session.add(
            SubscriptionPeriod(
                organization_id=order.organization_id,
                order_id=order.id,
                catalog=order.catalog,
                plan=order.plan,
                term=order.term,
                start=order.coverage_start,
                end=order.coverage_end,
                created_at=now,
            )
        )
    elif order.kind == "hours":
        # Hours bought in advance join the prepaid balance, once (the credit's order is unique).
        session.add(
            HourCredit(
                organization_id=order.organization_id,
                catalog=order.catalog,
                minutes=time_details(order)["minutes"],
                order_id=order.id,
                created_at=now,
            )
        )
    if order.kind == "upgrade" and order.previous_period is not None:
        order.previous_period.ended_on = order.coverage_start - timedelta(days=1)
    if method == "card":
        for document in documents_of(session, order):
            if document.kind == "invoice" and document.status == "open":
                document.status = "void"  # paid by card: the invoice is not to be paid too
        session.add(
            Document(
                kind="receipt",
                number=next_number(session, "receipt"),
                order_id=order.id,
                organization_id=order.organization_id,
                status="paid",
                issued_at=now,
                paid_at=now,
                total=order.total,
                currency=order.currency,
                payment_reference=reference,
                **bill_to(order.organization),
            )
        )
    session.flush()
    order.status = "fulfilled"
    return True


def record_refund(
    session: Session, order: Order, *, today: date, now: datetime, actor: Actor | None = None
) -> None:
    """Staff record that ``order``'s money went back: it is ``refunded`` and its period ends.

    The period ends yesterday (or, not yet begun, never starts). The refund
    itself is made in Stripe's dashboard or by the bank; this records it.
    Raises :class:`BillingError` ``not_paid`` for an order that was not paid.
    """
    if order.status not in ("paid", "fulfilled"):
        raise BillingError("not_paid", order)
    before = order.status
    order.status = "refunded"
    order.closed_at = now
    period = session.scalars(
        select(SubscriptionPeriod).where(SubscriptionPeriod.order_id == order.id)
    ).one_or_none()
    ended = None
    if period is not None:
        period.ended_on = max(period.start, today) - timedelta(days=1)
        ended = period.ended_on
    if actor is not None:
        record(
            session,
            actor,
            "order.refunded",
            f"#{order.id}",
            before={"order": before, "period_ends": period.end if period else None},
            after={"order": "refunded", "period_ends": ended, "total": str(order.total)},
            now=now,
            organization_id=order.organization_id,
        )
    session.commit()


def locked_order(session: Session, order_id: int) -> Order:
    """Order ``order_id`` read afresh and locked until the commit (see :mod:`portal.locking`)."""
    return locked_row(session, Order, order_id)
