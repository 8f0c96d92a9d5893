"""Checkout Sessions for localstripe, which has none: a test-only extension of its aiohttp app.

It speaks Stripe's wire format, so the portal's own stripe-python calls run
unchanged against it: form-encoded bodies with nested keys, any ``sk_test_``
key (localstripe's auth), ``Idempotency-Key`` replays and Stripe-shaped errors.
Sessions live in localstripe's store, so they are saved with its state and
``expand[]=payment_intent`` works; a paid session gets a real localstripe
PaymentIntent that ``payment_intents.retrieve`` finds.

Beyond Stripe's API, the ``/_test/`` routes let a test decide how a payment
ends, and ``/checkout/{id}`` is a minimal hosted page a browser can pay on.
Every event is signed exactly as Stripe signs webhooks, returned to the caller
(payload and header) and, when a webhook URL is configured, POSTed there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from localstripe import server as localstripe_server
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Event,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    random_id,
    store,
)

log = logging.getLogger("tests.stripe_server")

# The API version events carry: stripe-python 16.1.0's, the one the portal pins.
API_VERSION = "2026-10-28.endive"
CONFIG_KEY = "test:config"
IDEMPOTENCY_PREFIX = "test:idempotency:"
# Stripe keeps an open session 24 hours by default, and accepts 30 minutes to 24 hours.
DEFAULT_LIFETIME = 24 * 3600
MIN_LIFETIME = 30 * 60
PAID_CARD = "4242424242424242"
# Stripe's test cards that Checkout declines, with the message its page shows (this
# covers every card localstripe itself would refuse to attach or charge).
DECLINED_CARDS = {
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
    "4000000000009987": "Your card was declined.",
    "4000000000009979": "Your card was declined.",
    "4000000000000069": "Your card has expired.",
    "4000000000000127": "Your card's security code is incorrect.",
    "4000000000000119": "An error occurred while processing your card. Try again in a little bit.",
    "4242424242424241": "Your card number is incorrect.",
    "4000000000000341": "Your card was declined.",
    "4000008260003178": "Your card has insufficient funds.",
    "4000008400001629": "Your card was declined.",
}
OUTCOMES = ("paid", "declined", "async_pending", "async_succeeded", "async_failed")
# Parameters Stripe knows that this server accepts but does not model; any other
# name is refused as Stripe refuses it, so a typo in the portal fails its tests.
IGNORED_PARAMS = frozenset(
    {
        "after_expiration",
        "currency",
        "allow_promotion_codes",
        "automatic_tax",
        "billing_address_collection",
        "consent_collection",
        "custom_fields",
        "custom_text",
        "customer",
        "customer_creation",
        "invoice_creation",
        "phone_number_collection",
        "submit_type",
        "tax_id_collection",
    }
)
KNOWN_PARAMS = IGNORED_PARAMS | {
    "cancel_url",
    "client_reference_id",
    "customer_email",
    "expires_at",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "payment_intent_data",
    "payment_method_types",
    "success_url",
    "ui_mode",
}
# ISO 4217 currencies Stripe counts in whole units (no minor unit), or in thousandths.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def stripe_error(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    kind: str = "invalid_request_error",
) -> UserError:
    """An error localstripe's middleware answers as Stripe does: ``{"error": {...}}``."""
    error = UserError(status, message)
    error.body["error"]["type"] = kind
    if param is not None:
        error.body["error"]["param"] = param
    if code is not None:
        error.body["error"]["code"] = code
    return error


class CheckoutSession(StripeObject):
    """A ``checkout.session``: its public attributes are exactly what the API returns."""

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, origin: str, fields: dict, line_items: list[dict], intent_data: dict):
        # Real ids are this long; a column too short for them should fail here too.
        super().__init__(id=self._id_prefix + random_id(58))
        self.mode = "payment"
        self.ui_mode = "hosted"
        self.status = "open"
        self.payment_status = "unpaid"
        self.payment_intent = None
        self.customer = None
        self.customer_details = None
        self.amount_subtotal = sum(item["amount_subtotal"] for item in line_items)
        self.amount_total = self.amount_subtotal
        self.currency = line_items[0]["currency"]
        self.client_reference_id = fields.get("client_reference_id")
        self.customer_email = fields.get("customer_email")
        self.locale = fields.get("locale")
        self.metadata = fields.get("metadata", {})
        self.payment_method_types = fields.get("payment_method_types", ["card"])
        self.success_url = fields.get("success_url")
        self.cancel_url = fields.get("cancel_url")
        self.expires_at = fields.get("expires_at", self.created + DEFAULT_LIFETIME)
        self._page = f"{origin}/checkout/{self.id}"
        self.url = self._page  # Stripe clears it once the session is no longer open.
        self._line_items = line_items
        self._intent_data = intent_data
        self._async = None  # "pending", then "succeeded" or "failed"

    @classmethod
    def _api_retrieve(cls, id):
        found = store.get(f"{cls.object}:{id}")
        if found is None:
            raise stripe_error(
                404,
                f"No such checkout.session: '{id}'",
                param="session",
                code="resource_missing",
            )
        return found

    def _close(self, status: str) -> None:
        self.status = status
        self.url = None

    def _require(self, status: str, action: str) -> None:
        if self.status != status:
            raise stripe_error(
                400,
                f"Only Checkout Sessions with a status of {status} can {action}; "
                f"{self.id} is {self.status}.",
                code="checkout_session_status_invalid",
            )


# --- Parsing a create request -------------------------------------------------------


def _int(value, param: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise stripe_error(400, f"Invalid integer: {value}", param=param) from None
    if number < minimum:
        raise stripe_error(
            400, f"This value must be greater than or equal to {minimum}.", param=param
        )
    return number


def _str(fields: dict, name: str, max_length: int = 5000) -> None:
    value = fields.get(name)
    if value is None:
        return
    if not isinstance(value, str) or len(value) > max_length:
        raise stripe_error(400, f"Invalid string: {name}", param=name)


def _missing(param: str) -> UserError:
    return stripe_error(400, f"Missing required param: {param}.", param=param)


def _metadata(value, param: str) -> dict:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise stripe_error(400, "Invalid metadata: at most 50 string keys.", param=param)
    for key, item in value.items():
        if len(key) > 40 or not isinstance(item, str) or len(item) > 500:
            raise stripe_error(400, f"Invalid metadata value for {key!r}.", param=param)
    return dict(value)


def _line_items(value) -> list[dict]:
    """Line items with ``price_data``, as Stripe's ``item`` objects."""
    if not isinstance(value, list) or not value:
        raise _missing("line_items")
    items = []
    for index, raw in enumerate(value):
        where = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise stripe_error(400, f"Invalid object: {where}", param=where)
        if "price" in raw:
            raise stripe_error(
                400,
                "This test server supports price_data only, not Price ids.",
                param=f"{where}[price]",
            )
        price_data = raw.get("price_data")
        if not isinstance(price_data, dict):
            raise _missing(f"{where}[price_data]")
        currency = price_data.get("currency")
        if not isinstance(currency, str) or len(currency) != 3:
            raise _missing(f"{where}[price_data][currency]")
        if "unit_amount" not in price_data:
            raise _missing(f"{where}[price_data][unit_amount]")
        unit_amount = _int(price_data["unit_amount"], f"{where}[price_data][unit_amount]")
        product = price_data.get("product_data")
        if not isinstance(product, dict) or not product.get("name"):
            raise _missing(f"{where}[price_data][product_data][name]")
        if "quantity" not in raw:
            raise _missing(f"{where}[quantity]")
        quantity = _int(raw["quantity"], f"{where}[quantity]", minimum=1)
        amount = unit_amount * quantity
        currency = currency.lower()
        items.append(
            {
                "id": "li_" + random_id(24),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": currency,
                "description": product["name"],
                "price": {
                    "id": "price_" + random_id(24),
                    "object": "price",
                    "active": False,
                    "currency": currency,
                    "livemode": False,
                    "metadata": _metadata(price_data.get("metadata"), f"{where}[price_data]"),
                    "product": "prod_" + random_id(14),
                    "type": "one_time",
                    "unit_amount": unit_amount,
                },
                "quantity": quantity,
            }
        )
    if len({item["currency"] for item in items}) > 1:
        raise stripe_error(400, "All line items must use the same currency.", param="line_items")
    return items


def _create(origin: str, params: dict) -> CheckoutSession:
    """Validate like Stripe (the param named in each error), then store a new open session."""
    for name in params:
        if name not in KNOWN_PARAMS:
            raise stripe_error(400, f"Received unknown parameter: {name}", param=name)
    if "mode" not in params:
        raise _missing("mode")
    if params["mode"] != "payment":
        raise stripe_error(400, "This test server supports mode=payment only.", param="mode")
    if params.get("ui_mode", "hosted") != "hosted":
        raise stripe_error(400, "This test server supports ui_mode=hosted only.", param="ui_mode")
    line_items = _line_items(params.get("line_items"))
    if sum(item["amount_total"] for item in line_items) <= 0:
        raise stripe_error(
            400,
            "The Checkout Session's total amount due must be greater than 0.",
            param="line_items",
        )
    for name in ("success_url", "cancel_url", "customer_email", "locale"):
        _str(params, name)
    _str(params, "client_reference_id", max_length=200)
    fields = {k: params[k] for k in KNOWN_PARAMS - IGNORED_PARAMS if k in params}
    fields["metadata"] = _metadata(params.get("metadata"), "metadata")
    if "expires_at" in params:
        expires_at = _int(params["expires_at"], "expires_at")
        lifetime = expires_at - int(time.time())
        if not MIN_LIFETIME <= lifetime <= DEFAULT_LIFETIME:
            raise stripe_error(
                400,
                "expires_at must be between 30 minutes and 24 hours from now.",
                param="expires_at",
            )
        fields["expires_at"] = expires_at
    if "payment_method_types" in params:
        types = params["payment_method_types"]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise stripe_error(400, "Invalid array", param="payment_method_types")
    intent_data = params.get("payment_intent_data") or {}
    if not isinstance(intent_data, dict):
        raise stripe_error(400, "Invalid object", param="payment_intent_data")
    intent_data = {
        "metadata": _metadata(intent_data.get("metadata"), "payment_intent_data[metadata]"),
        "description": intent_data.get("description"),
    }
    return CheckoutSession(origin, fields, line_items, intent_data)


# --- Payments: localstripe objects behind a session -------------------------------------


def _start_payment(session: CheckoutSession, card: str) -> Charge:
    """A PaymentIntent with a pending charge (status "processing"), paid by ``card``.

    These are localstripe's own PaymentMethod, PaymentIntent and Charge, so the
    portal can retrieve the intent; settling the charge moves its status on.
    """
    method = PaymentMethod(
        type="card", card={"number": card, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
    )
    intent = PaymentIntent(
        amount=session.amount_total,
        currency=session.currency,
        payment_method=method.id,
        metadata=dict(session._intent_data["metadata"]),
    )
    intent.description = session._intent_data["description"]
    charge = Charge(amount=session.amount_total, currency=session.currency, source=method.id)
    charge.payment_intent = intent.id
    intent.latest_charge = charge
    session.payment_intent = intent.id
    session.customer_details = {
        "address": None,
        "email": session.customer_email,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    return charge


def _settle(session: CheckoutSession, succeeded: bool) -> None:
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    charge = intent.latest_charge
    if succeeded:
        charge._initialize_charge(on_success=intent._on_success)
    else:
        charge._set_auth_failure()
        intent._report_async_failure()


def _apply(session: CheckoutSession, outcome: str, card: str = PAID_CARD) -> str | None:
    """Move the session as Stripe would for ``outcome``; the event type it sends, if any."""
    if outcome == "declined":
        # A declined card never completes a Checkout Session: the customer may retry.
        session._require("open", "be paid")
        return None
    if outcome in ("paid", "async_pending"):
        session._require("open", "be paid")
        _start_payment(session, card)
        session._close("complete")
        if outcome == "paid":
            _settle(session, succeeded=True)
            session.payment_status = "paid"
        else:
            session._async = "pending"
        return "checkout.session.completed"
    if session._async != "pending":
        raise stripe_error(
            400,
            f"{outcome} needs a session completed with outcome async_pending first.",
            param="outcome",
        )
    succeeded = outcome == "async_succeeded"
    _settle(session, succeeded)
    session._async = "succeeded" if succeeded else "failed"
    if succeeded:
        session.payment_status = "paid"
        return "checkout.session.async_payment_succeeded"
    return "checkout.session.async_payment_failed"


# --- Events and webhooks -------------------------------------------------------------


def _config() -> dict:
    # Absent only after localstripe's DELETE /_config/data emptied the whole store.
    return store.get(CONFIG_KEY) or configure()


def configure(**changes) -> dict:
    """Set the webhook URL (None: no delivery), its signing secret and the events' api_version.

    Kept in localstripe's store, so it is saved with the state like the sessions.
    """
    defaults = {
        "webhook_url": None,
        "webhook_secret": "whsec_" + secrets.token_hex(24),
        "api_version": API_VERSION,
    }
    config = {**defaults, **store.get(CONFIG_KEY, {}), **changes}
    store[CONFIG_KEY] = config
    return config


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload`` at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _announce(session: CheckoutSession, kind: str | None) -> dict:
    """The control answer: session, event, exact payload and signature (delivery comes later).

    The event is localstripe's own, so GET /v1/events/{id} finds it, and it
    snapshots the session as it is now.
    """
    answer = {
        "session": session._export(),
        "event": None,
        "payload": None,
        "signature": None,
        "delivered_status": None,
        "delivery_error": None,
    }
    if kind is None:
        return answer
    config = _config()
    event = Event(kind, session)
    event.api_version = config["api_version"]
    event.pending_webhooks = 1 if config["webhook_url"] else 0
    event.request = {"id": None, "idempotency_key": None}
    exported = event._export()
    payload = json.dumps(exported, indent=2)
    signature = sign(payload, config["webhook_secret"], event.created)
    return answer | {"event": exported, "payload": payload, "signature": signature}


async def _deliver(answer: dict) -> dict:
    """POST the answer's payload to the configured webhook, if any; note how it went."""
    url = _config()["webhook_url"]
    if answer["payload"] is not None and url:
        status, error = await _post_webhook(url, answer["payload"], answer["signature"])
        answer |= {"delivered_status": status, "delivery_error": error}
    return answer


_background: set[asyncio.Task] = set()


def _deliver_later(answer: dict) -> None:
    """Deliver after answering, as Stripe does for API calls: a portal that calls the API
    from inside a request must not wait on its own webhook endpoint."""
    task = asyncio.create_task(_deliver(answer))
    _background.add(task)  # the loop keeps only a weak reference to its tasks
    task.add_done_callback(_background.discard)


async def _post_webhook(url: str, payload: str, signature: str) -> tuple[int | None, str | None]:
    """POST the signed body as Stripe does, waiting for the answer so tests are deterministic."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.post(url, data=payload.encode(), headers=headers) as response,
        ):
            await response.read()
            log.info("webhook delivered to %s: HTTP %s", url, response.status)
            return response.status, None
    except (aiohttp.ClientError, TimeoutError) as error:
        log.info("webhook to %s failed: %r", url, error)
        return None, repr(error)


def _loopback_url(url: str) -> bool:
    """This server only ever calls this machine: webhooks go to loopback addresses."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in (
        "127.0.0.1",
        "localhost",
        "::1",
    )


# --- HTTP handlers --------------------------------------------------------------------


def _flag(value) -> bool:
    return str(value).lower() not in ("false", "0", "no", "")


def _page(items: list[dict], params: dict, url: str) -> dict:
    """A Stripe list object over ``items`` (newest first), honouring limit and starting_after."""
    limit = _int(params.get("limit", 10), "limit", minimum=1)
    if limit > 100:
        raise stripe_error(400, "limit must be at most 100.", param="limit")
    start = 0
    if after := params.get("starting_after"):
        ids = [item["id"] for item in items]
        if after not in ids:
            raise stripe_error(400, f"No such object: '{after}'", param="starting_after")
        start = ids.index(after) + 1
    page = items[start : start + limit]
    return {"object": "list", "url": url, "has_more": start + limit < len(items), "data": page}


async def create_session(request: web.Request) -> web.Response:
    params = await localstripe_server.get_post_data(request) or {}
    expand = params.pop("expand", None)
    key = request.headers.get("Idempotency-Key")
    if key is None:
        session = _create(str(request.url.origin()), params)
        return localstripe_server.json_response(session._export(expand=expand))
    # Stripe replays the first answer to a key, and refuses the key with other parameters.
    fingerprint = hashlib.sha256(
        json.dumps([request.path, params, expand], sort_keys=True).encode()
    ).hexdigest()
    record = store.get(IDEMPOTENCY_PREFIX + key)
    if record is not None:
        if record["fingerprint"] != fingerprint:
            raise stripe_error(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}' if you "
                "meant to execute a different request.",
                kind="idempotency_error",
            )
        return web.Response(
            text=record["body"],
            content_type="application/json",
            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
        )
    session = _create(str(request.url.origin()), params)
    response = localstripe_server.json_response(session._export(expand=expand))
    store[IDEMPOTENCY_PREFIX + key] = {"fingerprint": fingerprint, "body": response.text}
    response.headers["Idempotency-Key"] = key
    return response


def _query(request: web.Request) -> tuple[dict, list | None]:
    params = localstripe_server.unflatten_data(request.query)
    return params, params.pop("expand", None)


async def retrieve_session(request: web.Request) -> web.Response:
    _, expand = _query(request)
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    return localstripe_server.json_response(session._export(expand=expand))


async def list_sessions(request: web.Request) -> web.Response:
    params, expand = _query(request)
    filters = {
        k: params.pop(k) for k in ("client_reference_id", "payment_intent", "status") if k in params
    }
    for name in params:
        if name not in ("limit", "starting_after"):
            raise stripe_error(400, f"Received unknown parameter: {name}", param=name)
    # expand[]=data.payment_intent expands inside each listed session.
    inner = [path.removeprefix("data.") for path in expand or []]
    sessions = [
        value
        for key, value in reversed(store.items())
        if key.startswith(CheckoutSession.object + ":")
        and all(getattr(value, k) == v for k, v in filters.items())
    ]
    items = [session._export(expand=inner) for session in sessions]
    return localstripe_server.json_response(_page(items, params, "/v1/checkout/sessions"))


async def list_line_items(request: web.Request) -> web.Response:
    params, _ = _query(request)
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    url = f"/v1/checkout/sessions/{session.id}/line_items"
    return localstripe_server.json_response(_page(session._line_items, params, url))


async def expire_session(request: web.Request) -> web.Response:
    """Stripe's own ``POST .../expire``: the merchant closes an open session."""
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    session._require("open", "be expired")
    session._close("expired")
    _deliver_later(_announce(session, "checkout.session.expired"))
    return localstripe_server.json_response(session._export())


async def control_config(request: web.Request) -> web.Response:
    """``POST /_test/config``: webhook_url (empty: none), webhook_secret, api_version."""
    if request.method == "GET":
        return localstripe_server.json_response(_config())
    data = await localstripe_server.get_post_data(request) or {}
    changes = {}
    if "webhook_url" in data:
        url = data["webhook_url"] or None
        if url is not None and not _loopback_url(url):
            raise stripe_error(
                400,
                "webhook_url must be an http(s) URL on a loopback host.",
                param="webhook_url",
            )
        changes["webhook_url"] = url
    if data.get("webhook_secret"):
        if not str(data["webhook_secret"]).startswith("whsec_"):
            raise stripe_error(
                400, "webhook_secret must start with whsec_.", param="webhook_secret"
            )
        changes["webhook_secret"] = data["webhook_secret"]
    if data.get("api_version"):
        changes["api_version"] = data["api_version"]
    return localstripe_server.json_response(configure(**changes))


async def control_complete(request: web.Request) -> web.Response:
    """``POST /_test/checkout/sessions/{id}/complete``: end the payment as ``outcome`` says."""
    data = await localstripe_server.get_post_data(request) or {}
    outcome = data.get("outcome", "paid")
    if outcome not in OUTCOMES:
        raise stripe_error(400, f"outcome must be one of {', '.join(OUTCOMES)}.", param="outcome")
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    return await _control_answer(session, _apply(session, outcome), data)


async def control_expire(request: web.Request) -> web.Response:
    """``POST /_test/checkout/sessions/{id}/expire``: the session times out."""
    data = await localstripe_server.get_post_data(request) or {}
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    session._require("open", "be expired")
    session._close("expired")
    return await _control_answer(session, "checkout.session.expired", data)


async def _control_answer(session: CheckoutSession, kind: str | None, data: dict):
    """Sign the event, deliver it unless ``deliver`` is false, and answer with both."""
    answer = _announce(session, kind)
    if _flag(data.get("deliver", True)):
        await _deliver(answer)
    return localstripe_server.json_response(answer)


# --- The hosted page ------------------------------------------------------------------


def money(amount: int, currency: str) -> str:
    """``amount`` in minor units as the customer reads it: 3000 eur -> "30.00 EUR"."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    digits = 3 if currency in THREE_DECIMAL else 2
    return f"{amount / 10**digits:.{digits}f} {currency.upper()}"


def _html(title: str, body: str, status: int = 200) -> web.Response:
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )
    return web.Response(text=page, content_type="text/html", status=status)


def _checkout_page(session: CheckoutSession, error: str | None = None) -> web.Response:
    esc = html.escape
    items = "".join(
        f"<li>{esc(item['description'])} × {item['quantity']}: "
        f"{esc(money(item['amount_total'], item['currency']))}</li>"
        for item in session._line_items
    )
    parts = [
        "<h1>Test checkout</h1>",
        f"<ul>{items}</ul>",
        f'<p>Total: <strong id="amount">{esc(money(session.amount_total, session.currency))}'
        "</strong></p>",
    ]
    if error:
        parts.append(f'<p role="alert" id="error">{esc(error)}</p>')
    parts.append(
        f'<form method="post" action="/checkout/{esc(session.id)}">'
        '<label>Card number <input name="card" value="4242424242424242" '
        'inputmode="numeric" autocomplete="cc-number"></label> '
        '<button type="submit">Pay</button></form>'
    )
    if session.cancel_url:
        parts.append(f'<p><a href="{esc(session.cancel_url)}">Cancel</a></p>')
    return _html("Test checkout", "\n".join(parts), status=402 if error else 200)


def _hosted(request: web.Request) -> CheckoutSession | web.Response:
    try:
        return CheckoutSession._api_retrieve(request.match_info["id"])
    except UserError:
        return _html("Not found", "<h1>This Checkout Session does not exist.</h1>", 404)


async def checkout_page(request: web.Request) -> web.Response:
    session = _hosted(request)
    if isinstance(session, web.Response):
        return session
    if session.status != "open":
        return _html("Inactive", "<h1>This Checkout Session is no longer active.</h1>", 410)
    return _checkout_page(session)


async def pay_on_page(request: web.Request) -> web.Response:
    """The Pay button: a declined card keeps the session open, any other card pays it."""
    session = _hosted(request)
    if isinstance(session, web.Response):
        return session
    if session.status != "open":
        return _html("Inactive", "<h1>This Checkout Session is no longer active.</h1>", 410)
    form = await request.post()
    card = "".join(ch for ch in str(form.get("card", "")) if ch.isdigit())
    if card in DECLINED_CARDS:
        return _checkout_page(session, DECLINED_CARDS[card])
    if len(card) != 16:
        return _checkout_page(session, "Your card number is incomplete.")
    kind = _apply(session, "paid", card=card)
    # Delivered before the redirect, so the portal has the event when the customer lands.
    await _deliver(_announce(session, kind))
    if not session.success_url:
        return _html("Paid", "<h1>Thanks for your payment.</h1>")
    location = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
    raise web.HTTPSeeOther(location)


# --- Installing the extension ---------------------------------------------------------

OPEN_PREFIXES = ("/_test/", "/checkout/")


@web.middleware
async def auth_middleware(request: web.Request, handler):
    """localstripe's key check, except on test controls and the page a browser pays on."""
    if request.path.startswith(OPEN_PREFIXES):
        return await handler(request)
    return await localstripe_server.auth_middleware(request, handler)


def install(app: web.Application, webhook_secret: str | None = None) -> None:
    """Add the Checkout routes to localstripe's ``app`` (before it starts).

    Call it after localstripe's state is loaded: a saved webhook configuration is
    kept unless ``webhook_secret`` replaces its secret.
    """
    configure(**({"webhook_secret": webhook_secret} if webhook_secret else {}))
    middlewares = app.middlewares
    middlewares[list(middlewares).index(localstripe_server.auth_middleware)] = auth_middleware
    routes = app.router
    routes.add_post("/v1/checkout/sessions", create_session)
    routes.add_get("/v1/checkout/sessions", list_sessions)
    routes.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    routes.add_get("/v1/checkout/sessions/{id}/line_items", list_line_items)
    routes.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    routes.add_get("/_test/config", control_config)
    routes.add_post("/_test/config", control_config)
    routes.add_post("/_test/checkout/sessions/{id}/complete", control_complete)
    routes.add_post("/_test/checkout/sessions/{id}/expire", control_expire)
    routes.add_get("/checkout/{id}", checkout_page)
    routes.add_post("/checkout/{id}", pay_on_page)
