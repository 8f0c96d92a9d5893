"""Use cases of billing: place orders, take payments, issue documents, fulfil, remind.

Every price comes from the plan engine and is locked into the order with the
catalog version it was priced from. Money is never lost or counted twice:

- a paid order creates exactly one period (``subscription_periods.order_id``
  is unique, and :func:`fulfil` does nothing to an order already fulfilled);
- each Stripe event is acted on once (``stripe_events.event_id`` is unique),
  and the session is read back from Stripe before anything changes;
- document numbers come from a locked counter in the same transaction as the
  document, so a failed transaction leaves no gap.

Functions that change something take the session and commit once, except
:func:`fulfil`, which is a step of the use cases that call it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.billing.gateway import CheckoutSession, Event, PaymentUnavailable, StripeGateway
from portal.listing import matching
from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import (
    Document,
    DocumentSequence,
    Order,
    Organization,
    RenewalReminder,
    StripeEvent,
    SubscriptionPeriod,
    User,
)
from portal.plans import Catalog, PlanError, Quote, Term, parse_quote_request, quote
from portal.plans.money import round_money, to_minor_units
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

DOCUMENT_PREFIXES = {"invoice": "INV", "receipt": "RCT"}
# Reminders before a period ends, in days; each is mailed once.
REMINDER_DAYS = (30, 7, 1)
HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
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
    if isinstance(asked, ServiceQuoteRequest) or not is_orderable(catalog, asked.plan):
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
        lines=json.dumps(
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
        ),
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
    """The client gives up an order awaiting payment; its open invoice is void."""
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    order.status = "cancelled"
    order.closed_at = now
    for document in _documents_of(session, order):
        if document.kind == "invoice" and document.status == "open":
            document.status = "void"
    session.commit()


# --- documents -------------------------------------------------------------------------------


def next_number(session: Session, kind: str) -> str:
    """The next number of ``kind`` (``INV-000001``), from a row locked until the commit.

    Under concurrent transactions on PostgreSQL the second waits for the first
    (``SELECT ... FOR UPDATE``); if the first rolls back, its number is taken
    again: the sequence has no gaps.
    """
    query = select(DocumentSequence).where(DocumentSequence.kind == kind).with_for_update()
    counter = session.scalars(query).one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(DocumentSequence(kind=kind, last_number=0))
        except IntegrityError:
            pass  # another transaction created it first
        counter = session.scalars(query.execution_options(populate_existing=True)).one()
    counter.last_number += 1
    return f"{DOCUMENT_PREFIXES[kind]}-{counter.last_number:06d}"


def _documents_of(session: Session, order: Order) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.order_id == order.id)))


def order_documents(session: Session, order: Order) -> dict[str, Document]:
    return {document.kind: document for document in _documents_of(session, order)}


def can_be_invoiced(organization: Organization) -> bool:
    """Whether the organization has the legal details an invoice needs (tax number, address)."""
    return bool((organization.tax_number or "").strip() and (organization.address or "").strip())


def _bill_to(organization: Organization) -> dict:
    return {
        "bill_to_name": organization.name,
        "bill_to_tax_number": organization.tax_number,
        "bill_to_address": organization.address,
    }


def claim_payment_method(session: Session, order: Order, method: str) -> None:
    """Decide that ``order`` is paid by ``method`` (``card``, ``bank-transfer``), once.

    One conditional UPDATE decides, in the caller's transaction: of a card
    payment and an invoice asked for at the same moment, the one whose update
    goes first wins and the other waits for it, then finds the method taken.
    Raises :class:`BillingError` ``order_closed``, ``paying_by_card`` or
    ``paying_by_invoice`` (after rolling back).
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
    session.rollback()
    session.refresh(order)
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    raise BillingError(
        "paying_by_card" if order.payment_method == "card" else "paying_by_invoice", order
    )


def issue_invoice(
    session: Session,
    order: Order,
    *,
    today: date,
    due_days: int,
    now: datetime,
    mail: Callable[[Document], Mail] | None = None,
    outbox: Outbox | None = None,
) -> tuple[Document, bool]:
    """The bank-transfer invoice of ``order``: issued once, numbered, due in ``due_days``.

    ``mail(document)`` is its mail (with the PDF), put in ``outbox`` in the
    invoice's own transaction. Returns the invoice and whether it was issued
    now; asking again returns the same invoice and False. Raises
    :class:`BillingError` ``order_closed`` for an order no longer awaiting
    payment, ``paying_by_card`` when it is paid by card (even if that was decided
    a moment ago, in a parallel request), and ``bill_to_incomplete`` while the
    organization lacks the tax number or legal address an invoice names its payer by.
    """
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    existing = order_documents(session, order).get("invoice")
    if existing is not None:
        return existing, False
    if not can_be_invoiced(order.organization):
        raise BillingError("bill_to_incomplete", order)
    claim_payment_method(session, order, "bank-transfer")
    document = Document(
        kind="invoice",
        number=next_number(session, "invoice"),
        order_id=order.id,
        organization_id=order.organization_id,
        status="open",
        issued_at=now,
        due_on=today + timedelta(days=due_days),
        total=order.total,
        currency=order.currency,
        **_bill_to(order.organization),
    )
    session.add(document)
    try:
        session.flush()
        if mail is not None and outbox is not None:
            outbox.put(session, mail(document), now)
        session.commit()
    except IntegrityError:
        # A second click won the race: the order has its invoice, and no number was lost.
        session.rollback()
        return order_documents(session, order)["invoice"], False
    return document, True


def organization_document(
    session: Session, organization_id: int | None, document_id: int
) -> Document | None:
    """Document ``document_id`` if it belongs to ``organization_id`` (None: any, for staff)."""
    document = session.get(Document, document_id)
    if document is None:
        return None
    if organization_id is not None and document.organization_id != organization_id:
        return None
    return document


def document_list(organization_id: int):
    """The organization's receipts, and its invoices open or paid (not the void or expired
    ones: their orders were cancelled), newest first (a query to page through)."""
    return (
        select(Document)
        .where(
            Document.organization_id == organization_id,
            or_(Document.kind == "receipt", Document.status.in_(("open", "paid"))),
        )
        .order_by(Document.issued_at.desc(), Document.id.desc())
    )


# The staff list of invoices: awaiting a transfer (the oldest due first), or paid (newest first).
INVOICE_STATES = ("open", "paid")


def invoice_list(status: str, search: str = ""):
    """Invoices in ``status`` for staff, with who marked them paid loaded in the same query:
    those whose number, payer or payer's tax number holds every word of ``search``."""
    query = (
        select(Document)
        .where(Document.kind == "invoice", Document.status == status)
        .options(selectinload(Document.paid_by))
    )
    if status == "open":
        query = query.order_by(Document.due_on, Document.id)
    else:
        query = query.order_by(Document.paid_at.desc(), Document.id.desc())
    found = matching(search, Document.number, Document.bill_to_name, Document.bill_to_tax_number)
    return query.where(found) if found is not None else query


def mark_invoice_paid(
    session: Session, document_id: int, *, staff_user_id: int, now: datetime
) -> Document:
    """Staff record the bank transfer of invoice ``document_id``: the period starts.

    Marking it again changes nothing. Raises :class:`BillingError`
    ``no_such_invoice``, ``invoice_closed`` (expired or void: the order was
    cancelled, and a new order must be placed) or ``order_paid_otherwise`` (the
    order was paid by card meanwhile). The order's row is locked first, as the
    webhook's fulfilment locks it, so the two never both pay one order.
    """
    found = session.get(Document, document_id)
    if found is None or found.kind != "invoice":
        raise BillingError("no_such_invoice")
    order = _locked_order(session, found.order_id)
    document = session.scalars(
        select(Document)
        .where(Document.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if document.status == "paid":
        return document
    if order.status in ("paid", "fulfilled", "refunded") or order.payment_method == "card":
        raise BillingError("order_paid_otherwise", order)
    if document.status != "open":
        raise BillingError("invoice_closed", order)
    document.status = "paid"
    document.paid_at = now
    document.paid_by_id = staff_user_id
    fulfil(session, document.order, method="bank-transfer", now=now)
    session.commit()
    return document


def expire_invoices(session: Session, *, today: date, now: datetime) -> list[Document]:
    """Invoices unpaid after their due date expire, and their orders are cancelled."""
    overdue = list(
        session.scalars(
            select(Document).where(
                Document.kind == "invoice", Document.status == "open", Document.due_on < today
            )
        )
    )
    for document in overdue:
        document.status = "expired"
        if document.order.status == "pending_payment":
            document.order.status = "cancelled"
            document.order.closed_at = now
    session.commit()
    return overdue


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
    if order.kind == "upgrade" and order.previous_period is not None:
        order.previous_period.ended_on = order.coverage_start - timedelta(days=1)
    if method == "card":
        for document in _documents_of(session, order):
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
                **_bill_to(order.organization),
            )
        )
    session.flush()
    order.status = "fulfilled"
    return True


def record_refund(session: Session, order: Order, *, today: date, now: datetime) -> None:
    """Staff record that ``order``'s money went back: it is ``refunded`` and its period ends.

    The period ends yesterday (or, not yet begun, never starts). The refund
    itself is made in Stripe's dashboard or by the bank; this records it.
    Raises :class:`BillingError` ``not_paid`` for an order that was not paid.
    """
    if order.status not in ("paid", "fulfilled"):
        raise BillingError("not_paid", order)
    order.status = "refunded"
    order.closed_at = now
    period = session.scalars(
        select(SubscriptionPeriod).where(SubscriptionPeriod.order_id == order.id)
    ).one_or_none()
    if period is not None:
        period.ended_on = max(period.start, today) - timedelta(days=1)
    session.commit()


# --- card payments ---------------------------------------------------------------------------

# Stripe Checkout's own languages among ours; the others get Stripe's choice by browser.
CHECKOUT_LOCALES = {"en": "en", "ru": "ru"}


def checkout_params(
    order: Order, *, description: str, email: str, success_url: str, cancel_url: str, locale: str
) -> dict:
    """The Checkout Session for ``order``: one line of its locked total, in minor units.

    One line, not one per quote line: discounts are negative lines, which
    Stripe's ``price_data`` does not take.
    """
    order_id = str(order.id)
    return {
        "mode": "payment",
        "client_reference_id": order_id,
        "metadata": {"order_id": order_id},
        "payment_intent_data": {"metadata": {"order_id": order_id}},
        "customer_email": email,
        "locale": CHECKOUT_LOCALES.get(locale, "auto"),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency.lower(),
                    "unit_amount": to_minor_units(Decimal(order.total), order.currency),
                    "product_data": {"name": description},
                },
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
    }


def idempotency_key(order: Order) -> str:
    """One Checkout Session per order, however many times the client clicks."""
    return f"portal-order-{order.id}-{order.checkout_key}"


def start_card_payment(
    session: Session, gateway: StripeGateway, order: Order, params: dict
) -> CheckoutSession:
    """The Checkout Session to send the client to, created once per order.

    Raises :class:`BillingError` ``order_closed`` for an order not awaiting
    payment, ``paying_by_invoice`` once an invoice was issued for it,
    ``payment_confirming`` when its session is paid already and the webhook has
    yet to say so (the period starts then, not by paying twice), and
    :class:`portal.billing.gateway.PaymentUnavailable` when Stripe cannot be reached.
    """
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    if "invoice" in order_documents(session, order):
        raise BillingError("paying_by_invoice", order)
    claim_payment_method(session, order, "card")
    session.commit()  # decided before Stripe is asked, so an invoice asked meanwhile is refused
    try:
        return _checkout_for(session, gateway, order, params)
    except PaymentUnavailable:
        # Stripe made no session: bank transfer is open to the client again.
        session.rollback()
        session.execute(
            update(Order)
            .where(
                Order.id == order.id,
                Order.payment_method == "card",
                Order.stripe_session_id.is_(None),
            )
            .values(payment_method=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        raise


def _checkout_for(
    session: Session, gateway: StripeGateway, order: Order, params: dict
) -> CheckoutSession:
    # A session made before is read back, not created again: the idempotency key would
    # refuse a second create whose parameters differ (the client switched language).
    checkout = (
        gateway.checkout_session(order.stripe_session_id) if order.stripe_session_id else None
    )
    if checkout is not None and checkout.status == "complete":
        raise BillingError("payment_confirming", order)
    if checkout is None or checkout.status == "expired":
        if checkout is not None:
            # A new session needs a new key, the same for every click that finds this one
            # expired (two tabs at once), so that Stripe makes one session, not two.
            seed = f"{order.checkout_key}:{checkout.id}".encode()
            order.checkout_key = hashlib.sha256(seed).hexdigest()[:32]
        checkout = gateway.create_checkout_session(params, idempotency_key(order))
    if order.stripe_session_id != checkout.id:
        order.stripe_session_id = checkout.id
        order.payment_method = "card"
        session.commit()
    return checkout


def apply_checkout(
    session: Session, order: Order, checkout: CheckoutSession, event_type: str | None, now: datetime
) -> str:
    """Bring ``order`` in line with its session as Stripe has it now; the outcome in a word.

    Paid: fulfilled (even an order the client cancelled meanwhile: the money
    was taken, so the service is given). Expired: the order expires. An
    asynchronous payment that failed cancels the order. Anything else waits.
    """
    if checkout.paid:
        if order.status == "fulfilled":
            return "already_fulfilled"
        if fulfil(session, order, method="card", reference=checkout.payment_intent, now=now):
            return "fulfilled"
        return "already_fulfilled"
    if order.status != "pending_payment":
        return "no_change"
    if checkout.status == "expired":
        order.status = "expired"
        order.closed_at = now
        return "expired"
    if event_type == "checkout.session.async_payment_failed":
        order.status = "cancelled"
        order.closed_at = now
        return "payment_failed"
    return "awaiting_payment"


def handle_event(session: Session, gateway: StripeGateway, event: Event, now: datetime) -> str:
    """Act once on a verified webhook ``event``, after reading its session back from Stripe.

    A second delivery of the same event id changes nothing (``duplicate``).
    An event for a session no order knows is recorded and ignored. Raises
    :class:`portal.billing.gateway.PaymentUnavailable` if Stripe cannot be
    asked, leaving nothing recorded, so that Stripe delivers the event again.
    """
    record = StripeEvent(event_id=event.id, type=event.type, received_at=now, outcome="received")
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return "duplicate"
    outcome = "ignored"
    try:
        if event.type in HANDLED_EVENTS and event.session_id:
            checkout = gateway.checkout_session(event.session_id)
            found = (
                session.scalars(
                    select(Order.id).where(Order.stripe_session_id == checkout.id)
                ).first()
                if checkout is not None
                else None
            )
            if found is None:
                outcome = "unknown_session"
            else:
                # Another event of the same session waits here until this one commits,
                # then finds the order as this one left it.
                order = _locked_order(session, found)
                record.order_id = order.id
                outcome = apply_checkout(session, order, checkout, event.type, now)
        record.outcome = outcome
        session.commit()
    except IntegrityError:
        # The same event, or the same order's fulfilment, committed by a parallel delivery.
        session.rollback()
        return "duplicate"
    except BaseException:
        session.rollback()
        raise
    return outcome


def _locked_order(session: Session, order_id: int) -> Order:
    """Order ``order_id`` read afresh and locked until the commit (on PostgreSQL; SQLite
    lets one writer at a time anyway)."""
    return session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def reconcile(session: Session, gateway: StripeGateway, now: datetime) -> list[tuple[Order, str]]:
    """Ask Stripe about every order still awaiting a card payment and apply what it says.

    For the webhook that never arrived. Each order is committed on its own, so
    one that fails does not hold back the others.
    """
    waiting = list(
        session.scalars(
            select(Order)
            .where(Order.status == "pending_payment", Order.stripe_session_id.is_not(None))
            .order_by(Order.id)
        )
    )
    results = []
    for order in waiting:
        checkout = gateway.checkout_session(order.stripe_session_id)
        if checkout is None:
            results.append((order, "unknown_session"))
            continue
        try:
            order = _locked_order(session, order.id)
            outcome = apply_checkout(session, order, checkout, None, now)
            session.commit()
        except IntegrityError:
            session.rollback()
            outcome = "already_fulfilled"
        results.append((order, outcome))
    return results


# --- renewal reminders -----------------------------------------------------------------------


def reminder_due(period: SubscriptionPeriod, today: date) -> int | None:
    """Which reminder ``period`` is due for today: 30, 7 or 1 (days before its end), or None.

    The nearest threshold not yet passed: a run missed on the 30th day before
    sends the 30-day reminder on a later day, until the 7-day one takes over.
    """
    if period.ended_on is not None:
        return None
    return _threshold(as_period(period).days_to_end(today))


def _threshold(days_to_end: int) -> int | None:
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
    reminded: list[DueReminder] = []
    after_id = 0
    while True:
        for _attempt in range(3):
            rows = _reminder_candidates(session, today, after_id, batch)
            if not rows:
                return reminded
            due = _due_reminders(session, rows, today)
            try:
                if due:
                    session.execute(
                        insert(RenewalReminder.__table__),
                        [
                            {"period_id": r.period_id, "days_before": r.days_before, "sent_at": now}
                            for r in due
                        ],
                    )
                    outbox.put_all(session, (m for r in due for m in mails_for(r)), now)
                session.commit()
            except IntegrityError:
                session.rollback()  # another run reminded some of them meanwhile: read again
                continue
            reminded.extend(due)
            break
        else:
            # Another run keeps writing the same reminders: leave them to it; this run fails
            # (recorded), and the next one goes on from what is committed.
            raise RuntimeError(f"reminders after period {after_id} kept clashing with another run")
        after_id = rows[-1].id


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
        threshold = _threshold(days_to_end)
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
    readers = _reminder_readers(session, select(SubscriptionPeriod.organization_id).where(in_batch))
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


def _reminder_readers(session: Session, organization_ids) -> dict[int, tuple[str, tuple]]:
    """Each organization's name and who reads its reminders: its active owners, else every
    active user; in their language, else the organization's. ``organization_ids`` is a
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
        _name, owners, everyone = people.setdefault(row.id, (row.name, [], []))
        reader = Recipient(row.email, row.user_name, row.locale or row.language or "en")
        everyone.append(reader)
        if row.org_role == "owner":
            owners.append(reader)
    return {
        organization_id: (name, tuple(owners or everyone))
        for organization_id, (name, owners, everyone) in people.items()
    }


@functools.cache
def _term(code: str) -> Term:
    return Term.parse(code)
