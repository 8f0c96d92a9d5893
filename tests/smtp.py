"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, keeping what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.parser import Parser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Inbox:
    """What the SMTP server received: each envelope's sender, recipients and message.

    ``refuse`` maps a recipient to the reply that refuses it (``"550 No such user"``).
    """

    host: str
    port: int
    envelopes: list = field(default_factory=list)
    logins: list = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        # As text: a message sent with SMTPUTF8 has UTF-8 in its headers.
        return [
            Parser(policy=policy.default).parsestr(envelope.original_content.decode())
            for envelope in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(
    port: int | None = None, smtputf8: bool = True, inbox: Inbox | None = None
) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 (a free port unless told); it accepts user ``portal``,
    password ``secret``, and offers SMTPUTF8 unless told not to. ``inbox`` keeps what an
    earlier server on the same port received (a server stopped and started again);
    ``inbox.stopped()`` stops it for the length of a ``with`` block."""
    inbox = inbox or Inbox("127.0.0.1", port or free_port())

    def authenticate(server, session, envelope, mechanism, auth_data):
        inbox.logins.append((auth_data.login, auth_data.password))
        accepted = (auth_data.login, auth_data.password) == (b"portal", b"secret")
        return AuthResult(success=accepted, handled=False)

    def start() -> Controller:
        controller = Controller(
            inbox,
            hostname=inbox.host,
            port=inbox.port,
            authenticator=authenticate,
            auth_require_tls=False,  # loopback, and the test server has no certificate
            enable_SMTPUTF8=smtputf8,
        )
        controller.start()
        return controller

    running = [start()]

    @contextmanager
    def stopped() -> Iterator[None]:
        running.pop().stop()
        try:
            yield
        finally:
            running.append(start())

    inbox.stopped = stopped
    try:
        yield inbox
    finally:
        for controller in running:
            controller.stop()
