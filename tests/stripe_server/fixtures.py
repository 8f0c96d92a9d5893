"""pytest plugin: ``stripe_server``, a real Stripe-compatible HTTP server for the test session.

Register it with ``pytest_plugins = ["tests.stripe_server.fixtures"]`` in the top
conftest (or ``-p tests.stripe_server.fixtures``). The server runs in its own
process (``python -m tests.stripe_server``), so localstripe and aiohttp, and their
warnings, never enter the pytest process; this module uses the standard library only.

Point stripe-python at it the way production code is configured::

    client = stripe.StripeClient(stripe_server.secret_key,
                                 base_addresses={"api": stripe_server.url})
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import ProxyHandler, Request, build_opener

import pytest

REPO = Path(__file__).resolve().parents[2]
READY = "ready "
# Straight to the loopback server, whatever proxy the environment names.
_OPENER = build_opener(ProxyHandler({}))


class StripeServerError(RuntimeError):
    """The test server refused a control request (unknown session, wrong state...)."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.body = body
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        super().__init__(f"HTTP {status}: {message or body}")


@dataclass
class StripeServer:
    """A running server: its base ``url``, a ``secret_key`` it accepts, and its test controls."""

    url: str
    secret_key: str
    webhook_secret: str
    state_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def configure(self, webhook_url: str | None = None, webhook_secret: str | None = None) -> dict:
        """Send events to ``webhook_url`` (None: deliver nothing), signed with ``webhook_secret``.

        The secret stays as it was when None; ``self.webhook_secret`` follows it.
        """
        fields = {"webhook_url": webhook_url or ""}
        if webhook_secret is not None:
            fields["webhook_secret"] = webhook_secret
        config = self._post("/_test/config", fields)
        self.webhook_secret = config["webhook_secret"]
        return config

    def complete(self, session_id: str, outcome: str = "paid", deliver: bool = True) -> dict:
        """End the session's payment: paid, declined, async_pending, async_succeeded/_failed.

        Returns ``{"session", "event", "payload", "signature", "delivered_status",
        "delivery_error"}``; ``event``, ``payload`` and ``signature`` are None for
        ``declined``, which sends nothing.
        """
        path = f"/_test/checkout/sessions/{session_id}/complete"
        return self._post(path, {"outcome": outcome, "deliver": deliver})

    def expire(self, session_id: str, deliver: bool = True) -> dict:
        """Expire an open session, as Stripe does when it times out; same answer as ``complete``."""
        return self._post(f"/_test/checkout/sessions/{session_id}/expire", {"deliver": deliver})

    def _post(self, path: str, fields: dict) -> dict:
        request = Request(
            self.url + path,
            data=json.dumps(fields).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with _OPENER.open(request, timeout=60) as response:
                return json.load(response)
        except HTTPError as error:
            with error:
                raise StripeServerError(error.code, json.load(error)) from None


def _wait_until_ready(process: subprocess.Popen, log_path: Path, start: int, timeout: float) -> str:
    """The base URL from the ``ready`` line logged past ``start``; on failure, the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log_path.open("rb") as log:
            log.seek(start)
            for line in log.read().decode(errors="replace").splitlines():
                if line.startswith(READY):
                    return line.removeprefix(READY).strip()
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with log_path.open("rb") as log:
        log.seek(start)
        output = log.read().decode(errors="replace")
    raise RuntimeError(f"the Stripe test server did not start (exit {process.poll()}):\n{output}")


@contextmanager
def running_stripe_server(
    state_dir: Path, *extra_args: str, timeout: float = 30
) -> Iterator[StripeServer]:
    """Start ``python -m tests.stripe_server`` on a free loopback port; stop it on exit.

    Its output goes to ``server.log`` in ``state_dir`` (a file, not a pipe, so a
    chatty server can never block on a full pipe), and TMPDIR points there too.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "server.log"
    webhook_secret = "whsec_" + secrets.token_hex(24)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "TMPDIR": str(state_dir),
    }
    command = [
        sys.executable,
        "-m",
        "tests.stripe_server",
        "--port=0",
        f"--state-dir={state_dir}",
        f"--webhook-secret={webhook_secret}",
        *extra_args,
    ]
    with log_path.open("ab") as log:
        start = log.tell()  # a restart on the same folder appends to the same log
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            url = _wait_until_ready(process, log_path, start, timeout)
            yield StripeServer(
                url=url,
                secret_key="sk_test_" + secrets.token_hex(12),
                webhook_secret=webhook_secret,
                state_dir=state_dir,
                log_path=log_path,
                process=process,
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeServer]:
    """One server for the whole session, its state in a pytest temporary folder.

    Shared by every test: create fresh sessions rather than count them, and a
    test that sets a webhook URL should ``configure(None)`` when it is done.
    """
    with running_stripe_server(tmp_path_factory.mktemp("stripe_server")) as server:
        yield server
