"""Sending e-mail: render a mail in its reader's language, compose it, hand it to a mailer.

Two mailers share one protocol (``Mailer``): :class:`SmtpMailer` when ``MAIL_SERVER`` is
set, else :class:`OutboxMailer`, which writes each message as an ``.eml`` file into
``instance/outbox/`` so that the embedded default works with no mail server (staff read
them at ``/staff/outbox``). ``create_app`` keeps the chosen one in
``app.extensions["mailer"]``; use cases receive it as an argument.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from flask import current_app
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from portal.clock import utc_now

DEFAULT_SENDER = "portal@localhost"
SMTP_TIMEOUT_SECONDS = 10.0
# What a failed delivery raises: a refused connection, a timeout, a refusing server.
DELIVERY_ERRORS = (OSError, smtplib.SMTPException)
# The outbox's file names: the UTC time written (to the microsecond), then 64 random bits.
OUTBOX_NAME = re.compile(r"\A\d{8}T\d{12}Z-[0-9a-f]{16}\.eml\Z")
OUTBOX_PAGE_SIZE = 200


class MailNotSent(RuntimeError):
    """The mailer could not take the message (SMTP server down, outbox not writable)."""


@dataclass(frozen=True)
class Mail:
    """One mail to one reader, already in their language."""

    to: str
    subject: str
    text: str
    to_name: str | None = None
    html: str | None = None
    language: str | None = None
    # (file name, MIME type such as "application/pdf", content)
    attachments: tuple[tuple[str, str, bytes], ...] = ()


class Mailer(Protocol):
    """Takes a composed message for delivery; raises one of ``DELIVERY_ERRORS`` if it cannot."""

    sender: str

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """Delivers through an SMTP server: plain, STARTTLS (``use_tls``) or SMTPS (``use_ssl``)."""

    host: str
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_SENDER
    timeout: float = SMTP_TIMEOUT_SECONDS

    def send(self, message: EmailMessage) -> None:
        if self.use_ssl:
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with connection as smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


@dataclass(frozen=True)
class OutboxMailer:
    """Writes each message as an ``.eml`` file into ``directory`` instead of sending it.

    The name is the UTC time of writing and 16 random hex digits
    (``20261122T090000123456Z-1f2e….eml``), so names sort by time and never
    collide. A file appears whole or not at all: it is written under a hidden
    temporary name in the same directory, flushed to disk, then renamed. Files
    are readable by the portal's user only (they carry sign-in links).
    """

    directory: Path
    sender: str = DEFAULT_SENDER
    clock: Callable[[], datetime] = utc_now

    def send(self, message: EmailMessage) -> None:
        self.write(message)

    def write(self, message: EmailMessage) -> Path:
        """Write ``message`` and return the path of its file."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{self.clock().astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(8)}.eml"
        descriptor, partial = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(message.as_bytes(policy=policy.SMTP))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.directory / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        return self.directory / name


def mailer_from_config(config: Mapping) -> Mailer:
    """An :class:`SmtpMailer` when ``MAIL_SERVER`` is set, else an :class:`OutboxMailer`."""
    sender = config.get("MAIL_FROM") or DEFAULT_SENDER
    if config.get("MAIL_SERVER"):
        return SmtpMailer(
            host=config["MAIL_SERVER"],
            port=int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=sender,
        )
    return OutboxMailer(directory=Path(config["OUTBOX_DIR"]), sender=sender)


class MailPolicy(policy.EmailPolicy):
    """The default policy, except that a non-ASCII subject is encoded by ``email.header``.

    The default folding of a long non-ASCII subject puts the space between two words
    outside the encoded words, where readers drop it (a Persian subject read
    "برایسازمان"); ``Header`` keeps every space inside an encoded word.
    """

    def _fold(self, name, value, refold_binary=False):
        text = str(value)
        if name.lower() == "subject" and not text.isascii():
            encoded = Header(text, "utf-8", header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}"
        return super()._fold(name, value, refold_binary)


MAIL_POLICY = MailPolicy()


def compose(mail: Mail, sender: str, now: datetime) -> EmailMessage:
    """The message of ``mail`` from ``sender``, dated ``now`` (aware).

    Headers outside ASCII (a Russian subject, a name) are encoded by the
    ``email`` package (RFC 2047); the text is UTF-8, quoted-printable, so that
    it passes any server, 8BITMIME or not. An HTML version goes as an alternative.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = mail.subject
    message["From"] = sender
    message["To"] = Address(display_name=mail.to_name or "", addr_spec=mail.to)
    message["Date"] = format_datetime(now.astimezone(UTC))
    # The sender's domain: make_msgid would otherwise ask DNS for this host's name.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, mime_type, content in mail.attachments:
        maintype, _, subtype = mime_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    if mail.language:
        # After the content: setting it clears every Content-* header.
        message["Content-Language"] = mail.language
    return message


def deliver(mailer: Mailer, mail: Mail, now: datetime) -> None:
    """Compose ``mail`` and hand it to ``mailer``; raises :class:`MailNotSent` if it cannot."""
    try:
        mailer.send(compose(mail, mailer.sender, now))
    except DELIVERY_ERRORS as error:
        raise MailNotSent(f"mail to {mail.to} not sent: {error}") from error


def render_mail(
    name: str,
    locale: str,
    /,
    *,
    to: str,
    to_name: str | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    **context,
) -> Mail:
    """Render ``templates/mail/<name>.txt`` (and ``<name>.html`` if there is one) in ``locale``.

    The text template holds two blocks, ``subject`` and ``body``; the subject's
    white space is folded into one line. Values shown in the mail (dates) are
    formatted by the caller for ``locale``: the page's own formatting filters
    keep the request's language.
    """
    environment = current_app.jinja_env
    with force_locale(locale):
        template = environment.get_template(f"mail/{name}.txt")
        variables = template.new_context(dict(context))
        subject = " ".join("".join(template.blocks["subject"](variables)).split())
        text = "".join(template.blocks["body"](variables)).strip("\n") + "\n"
        try:
            html = environment.get_template(f"mail/{name}.html").render(**context)
        except TemplateNotFound:
            html = None
    return Mail(
        to=to,
        to_name=to_name,
        subject=subject,
        text=text,
        html=html,
        language=locale,
        attachments=attachments,
    )


@dataclass(frozen=True)
class OutboxEntry:
    """A message in the outbox, as the staff list shows it."""

    name: str
    date: datetime | None
    to: str
    subject: str


def outbox_entries(directory: Path, limit: int = OUTBOX_PAGE_SIZE) -> list[OutboxEntry]:
    """The newest ``limit`` messages of the outbox, newest first (by the time in their names)."""
    if not directory.is_dir():
        return []
    names = sorted((p.name for p in directory.iterdir() if OUTBOX_NAME.match(p.name)), reverse=True)
    entries = []
    for name in names[:limit]:
        with (directory / name).open("rb") as handle:
            headers = BytesParser(policy=policy.default).parse(handle, headersonly=True)
        date = headers["Date"]
        entries.append(
            OutboxEntry(
                name=name,
                date=date.datetime if date is not None else None,
                to=str(headers["To"] or ""),
                subject=str(headers["Subject"] or ""),
            )
        )
    return entries


def outbox_message(directory: Path, name: str) -> EmailMessage | None:
    """The message filed under ``name``; None for a name that is not an outbox file's.

    Only names the outbox itself gives are read, so no path can reach outside it.
    """
    if not OUTBOX_NAME.match(name):
        return None
    path = directory / name
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


def text_of(message: EmailMessage) -> str:
    """The plain-text body of ``message``, decoded, lines ending in ``\n``; empty if none."""
    body = message.get_body(preferencelist=("plain",))
    return body.get_content().replace("\r\n", "\n") if body is not None else ""
