"""Stripe, seen from the portal: create a Checkout Session, read one back, verify a webhook.

The billing services take a gateway as an argument, so the tests run them
against a real Stripe-compatible server (localstripe with a Checkout
extension) through the same stripe-python calls production makes.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe


class PaymentUnavailable(RuntimeError):
    """Stripe could not be reached or refused the request; nothing was charged."""


class BadSignature(ValueError):
    """A webhook body whose signature does not verify (tampered, stale, or another secret)."""


@dataclass(frozen=True)
class CheckoutSession:
    """What the portal needs of a Checkout Session: its state and the order it names."""

    id: str
    url: str | None
    status: str  # open, complete or expired
    payment_status: str  # paid, unpaid or no_payment_required
    payment_intent: str | None
    client_reference_id: str | None
    order_id: str | None
    amount_total: int | None
    currency: str | None

    @property
    def paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    session_id: str | None


class StripeGateway:
    """stripe-python's client on ``secret_key``, at ``api_base`` (Stripe itself when None)."""

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        options = {"base_addresses": {"api": api_base}} if api_base else {}
        self.client = stripe.StripeClient(secret_key, max_network_retries=2, **options)

    def create_checkout_session(self, params: dict, idempotency_key: str) -> CheckoutSession:
        """Create a session; the same ``idempotency_key`` gives back the same session."""
        try:
            created = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise PaymentUnavailable(str(error)) from error
        return _session(created)

    def checkout_session(self, session_id: str) -> CheckoutSession | None:
        """The session as Stripe has it now; None if Stripe knows no such session."""
        try:
            found = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise PaymentUnavailable(str(error)) from error
        except stripe.StripeError as error:
            raise PaymentUnavailable(str(error)) from error
        return _session(found)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession | None:
        """Close an open session, so that it can no longer be paid; the session as Stripe
        has it then (a session paid meanwhile stays paid). None if Stripe knows no such
        session."""
        try:
            expired = self.client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            return self.checkout_session(session_id)  # not open any more: say how it is
        except stripe.StripeError as error:
            raise PaymentUnavailable(str(error)) from error
        return _session(expired)

    @staticmethod
    def verify_event(payload: bytes, signature: str | None, secret: str) -> Event:
        """Check ``signature`` on the raw ``payload`` (5 minutes' tolerance) and read the event."""
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature(str(error)) from error
        event = event.to_dict()
        data = event.get("data", {}).get("object", {})
        session_id = data.get("id") if data.get("object") == "checkout.session" else None
        return Event(id=event["id"], type=event["type"], session_id=session_id)


def _session(found) -> CheckoutSession:
    found = found.to_dict()
    metadata = found.get("metadata") or {}
    return CheckoutSession(
        id=found["id"],
        url=found.get("url"),
        status=found.get("status") or "open",
        payment_status=found.get("payment_status") or "unpaid",
        payment_intent=_id_of(found.get("payment_intent")),
        client_reference_id=found.get("client_reference_id"),
        order_id=metadata.get("order_id"),
        amount_total=found.get("amount_total"),
        currency=found.get("currency"),
    )


def _id_of(value) -> str | None:
    """A payment intent is an id, or an expanded object carrying one."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")
