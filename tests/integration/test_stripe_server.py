"""The Stripe test server answers stripe-python as Stripe does, and its controls end payments.

Everything goes through stripe-python 16 over real HTTP, as the portal's gateway
does: ``StripeClient(key, base_addresses={"api": url})`` (and the module-level
``stripe.api_base`` once), so a passing test here means the portal's calls work
against the server.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import stripe

from tests.stripe_server.fixtures import StripeServerError, running_stripe_server

SUCCESS_URL = "http://127.0.0.1:9/billing/done?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://127.0.0.1:9/plans"


def checkout_params(**extra) -> dict:
    """Two lines, 2 × 12.50 EUR and 1 × 5.00 EUR: 3000 cents in all."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1250,
                    "product_data": {"name": "Gold support, 1 month"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 500,
                    "product_data": {"name": "Onboarding call"},
                },
                "quantity": 1,
            },
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": f"org-{uuid.uuid4().hex[:8]}",
        "metadata": {"order_id": "1234"},
        **extra,
    }


@pytest.fixture
def client(stripe_server):
    """stripe-python's client as the portal builds it, pointed at the test server."""
    return stripe.StripeClient(
        stripe_server.secret_key,
        base_addresses={"api": stripe_server.url},
        max_network_retries=2,
    )


@pytest.fixture
def session(client):
    return client.v1.checkout.sessions.create(params=checkout_params())


class _Recorder(BaseHTTPRequestHandler):
    """Records each webhook POST and answers with the server's ``status``."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhooks(stripe_server):
    """A webhook endpoint on loopback, configured on the server for the test's duration."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    receiver.received = []
    receiver.status = 200
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    stripe_server.configure(f"http://127.0.0.1:{receiver.server_port}/stripe/webhook")
    try:
        yield receiver
    finally:
        stripe_server.configure(None)
        receiver.shutdown()
        receiver.server_close()
        thread.join()


def _http(method: str, url: str, form: dict | None = None) -> tuple[int, dict, str]:
    """One plain HTTP exchange, redirects not followed: status, headers, body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
        connection.request(method, parts.path, urlencode(form) if form else None, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


# --- The Stripe API ------------------------------------------------------------------


def test_a_created_session_is_open_and_echoes_amount_reference_and_metadata(client, stripe_server):
    params = checkout_params(customer_email="ops@example.com", locale="uk")
    created = client.v1.checkout.sessions.create(params=params)

    assert created.id.startswith("cs_test_")
    assert created.object == "checkout.session"
    assert (created.status, created.payment_status) == ("open", "unpaid")
    assert (created.amount_total, created.currency) == (3000, "eur")
    assert created.client_reference_id == params["client_reference_id"]
    assert created.metadata.to_dict() == {"order_id": "1234"}
    assert (created.success_url, created.cancel_url) == (SUCCESS_URL, CANCEL_URL)
    assert (created.customer_email, created.locale) == ("ops@example.com", "uk")
    assert created.payment_intent is None
    assert created.livemode is False
    assert created.url == f"{stripe_server.url}/checkout/{created.id}"
    assert created.expires_at - created.created == 24 * 3600


def test_the_line_items_are_listed_in_minor_units(client, session):
    items = client.v1.checkout.sessions.line_items.list(session.id)

    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Gold support, 1 month", 2, 2500),
        ("Onboarding call", 1, 500),
    ]
    assert items.data[0].price.unit_amount == 1250


def test_the_same_idempotency_key_gives_back_the_same_session(client):
    params = checkout_params()
    key = f"order-1234-{uuid.uuid4()}"

    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    again = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    other = client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key + "-other"}
    )

    assert again.id == first.id
    assert other.id != first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"


def test_an_idempotency_key_reused_with_other_parameters_is_refused(client):
    key = f"order-{uuid.uuid4()}"
    client.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": key})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=checkout_params(metadata={"order_id": "9999"}),
            options={"idempotency_key": key},
        )


def test_a_session_is_retrieved_by_its_id(client, session):
    found = client.v1.checkout.sessions.retrieve(session.id)

    assert found.to_dict() == session.to_dict()


def test_an_unknown_session_raises_stripes_invalid_request_error(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve("cs_test_nosuchsession")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.json_body == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "session",
            "message": "No such checkout.session: 'cs_test_nosuchsession'",
        }
    }


@pytest.mark.parametrize(
    ("params", "param"),
    [
        pytest.param({"colour": "red"}, "colour", id="an unknown parameter"),
        pytest.param({"mode": None}, "mode", id="no mode"),
        pytest.param({"line_items": None}, "line_items", id="no line items"),
    ],
)
def test_a_bad_request_names_the_parameter_at_fault(client, params, param):
    request = {k: v for k, v in checkout_params(**params).items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=request)

    assert raised.value.http_status == 400
    assert raised.value.param == param


def test_a_line_item_without_quantity_is_refused(client):
    params = checkout_params()
    del params["line_items"][1]["quantity"]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params)

    assert raised.value.param == "line_items[1][quantity]"


def test_sessions_are_listed_by_client_reference_and_payment_intent(client, stripe_server):
    params = checkout_params()
    older = client.v1.checkout.sessions.create(params=params)
    newer = client.v1.checkout.sessions.create(params=params)
    paid = stripe_server.complete(newer.id)["session"]

    by_reference = client.v1.checkout.sessions.list(
        params={"client_reference_id": params["client_reference_id"]}
    )
    by_intent = client.v1.checkout.sessions.list(params={"payment_intent": paid["payment_intent"]})

    assert [s.id for s in by_reference.data] == [newer.id, older.id]
    assert [s.id for s in by_intent.data] == [newer.id]


def test_the_module_level_api_base_works_too(stripe_server, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", stripe_server.secret_key)
    monkeypatch.setattr(stripe, "api_base", stripe_server.url)

    created = stripe.checkout.Session.create(**checkout_params(), idempotency_key=str(uuid.uuid4()))

    assert stripe.checkout.Session.retrieve(created.id).amount_total == 3000


# --- Test controls and events --------------------------------------------------------


def test_a_paid_session_is_complete_and_its_event_verifies(client, stripe_server, session):
    answer = stripe_server.complete(session.id, outcome="paid")

    found = client.v1.checkout.sessions.retrieve(session.id)
    assert (found.status, found.payment_status) == ("complete", "paid")
    assert found.payment_intent.startswith("pi_")
    assert found.url is None
    assert answer["session"] == found.to_dict()

    event = stripe.Webhook.construct_event(
        answer["payload"], answer["signature"], stripe_server.webhook_secret
    )
    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_")
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.metadata.to_dict() == {"order_id": "1234"}
    assert answer["event"]["api_version"] == stripe.api_version
    assert answer["delivered_status"] is None  # no webhook URL configured


def test_a_paid_session_has_a_succeeded_payment_intent(client, stripe_server, session):
    stripe_server.complete(session.id)

    found = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert found.payment_intent.status == "succeeded"
    assert (found.payment_intent.amount, found.payment_intent.currency) == (3000, "eur")
    intent = client.v1.payment_intents.retrieve(found.payment_intent.id)
    assert intent.status == "succeeded"


def test_an_event_signed_with_another_secret_does_not_verify(stripe_server, session):
    answer = stripe_server.complete(session.id)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(answer["payload"], answer["signature"], "whsec_other")


def test_the_event_is_posted_to_the_webhook_with_stripes_signature(
    stripe_server, session, webhooks
):
    answer = stripe_server.complete(session.id)

    assert answer["delivered_status"] == 200
    [(path, headers, body)] = webhooks.received
    assert path == "/stripe/webhook"
    assert body == answer["payload"].encode()
    assert headers["Stripe-Signature"] == answer["signature"]
    event = stripe.Webhook.construct_event(
        body, headers["Stripe-Signature"], stripe_server.webhook_secret
    )
    assert event.data.object.id == session.id


def test_the_webhooks_answer_status_is_reported(stripe_server, session, webhooks):
    webhooks.status = 500

    assert stripe_server.complete(session.id)["delivered_status"] == 500


def test_deliver_false_sends_nothing_but_still_returns_the_signed_payload(
    stripe_server, session, webhooks
):
    answer = stripe_server.complete(session.id, deliver=False)

    assert webhooks.received == []
    assert answer["delivered_status"] is None
    stripe.Webhook.construct_event(
        answer["payload"], answer["signature"], stripe_server.webhook_secret
    )


def test_a_new_webhook_secret_signs_the_next_events(stripe_server, session):
    previous = stripe_server.webhook_secret
    try:
        stripe_server.configure(webhook_secret="whsec_rotated")
        answer = stripe_server.complete(session.id)
        stripe.Webhook.construct_event(answer["payload"], answer["signature"], "whsec_rotated")
    finally:
        stripe_server.configure(webhook_secret=previous)


def test_a_declined_card_leaves_the_session_open_and_sends_nothing(
    client, stripe_server, session, webhooks
):
    answer = stripe_server.complete(session.id, outcome="declined")

    assert answer["event"] is None and answer["payload"] is None
    assert webhooks.received == []
    found = client.v1.checkout.sessions.retrieve(session.id)
    assert (found.status, found.payment_status, found.payment_intent) == ("open", "unpaid", None)


def test_a_delayed_payment_completes_unpaid_then_succeeds(client, stripe_server, session):
    pending = stripe_server.complete(session.id, outcome="async_pending")
    assert pending["event"]["type"] == "checkout.session.completed"
    assert (pending["session"]["status"], pending["session"]["payment_status"]) == (
        "complete",
        "unpaid",
    )
    intent_id = pending["session"]["payment_intent"]
    assert client.v1.payment_intents.retrieve(intent_id).status == "processing"

    settled = stripe_server.complete(session.id, outcome="async_succeeded")

    assert settled["event"]["type"] == "checkout.session.async_payment_succeeded"
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert client.v1.payment_intents.retrieve(intent_id).status == "succeeded"


def test_a_delayed_payment_can_fail(client, stripe_server, session):
    stripe_server.complete(session.id, outcome="async_pending")

    failed = stripe_server.complete(session.id, outcome="async_failed")

    assert failed["event"]["type"] == "checkout.session.async_payment_failed"
    found = client.v1.checkout.sessions.retrieve(session.id)
    assert (found.status, found.payment_status) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(found.payment_intent).status == (
        "requires_payment_method"
    )


@pytest.mark.parametrize("outcome", ["async_succeeded", "async_failed"])
def test_a_delayed_outcome_needs_a_pending_payment(stripe_server, session, outcome):
    with pytest.raises(StripeServerError) as raised:
        stripe_server.complete(session.id, outcome=outcome)

    assert raised.value.status == 400


def test_an_expired_session_cannot_be_paid(client, stripe_server, session):
    answer = stripe_server.expire(session.id)

    assert answer["event"]["type"] == "checkout.session.expired"
    found = client.v1.checkout.sessions.retrieve(session.id)
    assert (found.status, found.payment_status, found.url) == ("expired", "unpaid", None)
    with pytest.raises(StripeServerError):
        stripe_server.complete(session.id)


def test_the_merchant_can_expire_a_session_through_the_api(client, session):
    expired = client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_an_expiry_through_the_api_is_delivered_after_the_answer(client, session, webhooks):
    client.v1.checkout.sessions.expire(session.id)

    deadline = time.monotonic() + 10
    while not webhooks.received and time.monotonic() < deadline:
        time.sleep(0.05)
    [(_, _, body)] = webhooks.received
    assert json.loads(body)["type"] == "checkout.session.expired"


def test_a_control_on_an_unknown_session_fails(stripe_server):
    with pytest.raises(StripeServerError) as raised:
        stripe_server.complete("cs_test_nosuchsession")

    assert raised.value.status == 404


# --- The hosted page -----------------------------------------------------------------


def test_the_hosted_page_shows_the_amount_a_card_field_pay_and_cancel(session):
    status, _, page = _http("GET", session.url)

    assert status == 200
    assert "30.00 EUR" in page
    assert '<input name="card" value="4242424242424242"' in page
    assert '<button type="submit">Pay</button>' in page
    assert f'<a href="{CANCEL_URL}">Cancel</a>' in page


def test_paying_on_the_hosted_page_redirects_to_the_success_url(
    client, stripe_server, session, webhooks
):
    status, headers, _ = _http("POST", session.url, {"card": "4242 4242 4242 4242"})

    assert status == 303
    assert headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    found = client.v1.checkout.sessions.retrieve(session.id)
    assert (found.status, found.payment_status) == ("complete", "paid")
    [(_, headers, body)] = webhooks.received
    event = stripe.Webhook.construct_event(
        body, headers["Stripe-Signature"], stripe_server.webhook_secret
    )
    assert (event.type, event.data.object.id) == ("checkout.session.completed", session.id)
    assert _http("GET", session.url)[0] == 410  # the page is gone once paid


def test_a_declined_card_on_the_hosted_page_keeps_the_session_open(client, session, webhooks):
    status, _, page = _http("POST", session.url, {"card": "4000000000000002"})

    assert status == 402
    assert "Your card was declined." in page
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert webhooks.received == []


# --- Isolation -----------------------------------------------------------------------


def _listening_addresses(port: int) -> list[str]:
    """The local addresses of the sockets listening on TCP ``port``, from /proc/net."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = int(address, 16).to_bytes(len(address) // 2, sys.byteorder)
                family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
                found.append(socket.inet_ntop(family, raw))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net")
def test_the_server_listens_on_127_0_0_1_only(stripe_server):
    port = urlsplit(stripe_server.url).port

    assert _listening_addresses(port) == ["127.0.0.1"]
    # Another loopback address of this machine finds nothing: the socket is not on 0.0.0.0.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()


def test_the_server_writes_only_in_its_state_folder_and_finds_its_state_again(tmp_path):
    state_dir = tmp_path / "state"
    writes = tmp_path / "writes.log"
    stray = Path("/tmp/localstripe.pickle")  # where localstripe alone would keep it
    stray_before = stray.stat().st_mtime_ns if stray.exists() else None

    with running_stripe_server(state_dir, f"--record-writes={writes}") as server:
        client = stripe.StripeClient(server.secret_key, base_addresses={"api": server.url})
        created = client.v1.checkout.sessions.create(params=checkout_params())
        server.complete(created.id)
    with running_stripe_server(state_dir) as server:
        client = stripe.StripeClient(server.secret_key, base_addresses={"api": server.url})
        assert client.v1.checkout.sessions.retrieve(created.id).payment_status == "paid"

    written = {Path(line) for line in writes.read_text().splitlines()}
    assert state_dir / "localstripe.pickle" in written
    temporary = {Path("/tmp"), Path(tempfile.gettempdir())}
    assert [
        path
        for path in written
        if any(path.is_relative_to(t) for t in temporary) and not path.is_relative_to(state_dir)
    ] == []
    assert (stray.stat().st_mtime_ns if stray.exists() else None) == stray_before
