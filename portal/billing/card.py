"""Use cases of card payments through Stripe Checkout: pay, hear from Stripe, reconcile.

An order gets one Checkout Session, however many times the client clicks (an
idempotency key of its own). Money is never lost or counted twice:

- each Stripe event is acted on once (``stripe_events.event_id`` is unique),
  and the session is read back from Stripe before anything changes;
- a paid session fulfils its order once (:func:`portal.billing.orders.fulfil`,
  on the order's locked row), whether the webhook or :func:`reconcile` sees it first.

Stripe is a :class:`portal.billing.gateway.StripeGateway` taken as an argument.
Functions that change something take the session and commit what they change.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.billing.documents import order_documents
from portal.billing.gateway import CheckoutSession, Event, PaymentUnavailable, StripeGateway
from portal.billing.orders import (
    BillingError,
    claim_payment_method,
    fulfil,
    locked_order,
    release_visit,
)
from portal.models import Order, StripeEvent
from portal.plans.money import to_minor_units

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
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


def close_checkout(session: Session, gateway: StripeGateway, order: Order) -> None:
    """Before an order paid by card is cancelled: its Checkout Session is expired at Stripe,
    so that nobody pays a cancelled order. Raises :class:`BillingError`
    ``payment_confirming`` when the session was paid (the period starts when Stripe says
    so), and :class:`PaymentUnavailable` when Stripe cannot be asked."""
    if not order.stripe_session_id:
        return
    checkout = gateway.expire_checkout_session(order.stripe_session_id)
    if checkout is not None and checkout.paid:
        raise BillingError("payment_confirming", order)


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
        release_visit(session, order, now)
        return "expired"
    if event_type == "checkout.session.async_payment_failed":
        order.status = "cancelled"
        order.closed_at = now
        release_visit(session, order, now)
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
                order = locked_order(session, found)
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
            order = locked_order(session, order.id)
            outcome = apply_checkout(session, order, checkout, None, now)
            session.commit()
        except IntegrityError:
            session.rollback()
            outcome = "already_fulfilled"
        results.append((order, outcome))
    return results
