"""Mail as the portal writes it: rendered in its reader's language, composed, handed to a server.

A use case renders a :class:`Mail` (:func:`render_mail`) and puts it in the
outbox (:mod:`portal.mail.outbox`) in its own transaction; only the delivery
job composes the message (:func:`compose`) and hands it to a mailer. Two
mailers share one protocol (``Mailer``): :class:`SmtpMailer` when
``MAIL_SERVER`` is set, else :class:`FileMailer`, which writes each message as
an ``.eml`` file into ``instance/outbox/`` so that the embedded default works
with no mail server.
"""

from __future__ import annotations

import contextlib
import email.errors
import functools
import os
import secrets
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from flask import current_app
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from portal.clock import utc_now

SMTP_TIMEOUT_SECONDS = 10.0
# What a failed delivery raises: a refused connection, a timeout, a refusing server.
DELIVERY_ERRORS = (OSError, smtplib.SMTPException)


class MailNotSent(RuntimeError):
    """The mailer could not take the message.

    ``permanent`` when trying again cannot help (the server refused the address
    or the message, or cannot carry the address at all); ``server_lost`` when
    the server could not be reached or went away, so that the mail after this
    one would not go either.
    """

    def __init__(self, message: str, permanent: bool = False, server_lost: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.server_lost = server_lost


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
    # The template it was rendered from, for the staff outbox (``confirm_email``).
    template: str | None = None
    # It carries a link that signs its reader in: not for staff's eyes, not kept once sent.
    private: bool = False


class Mailer(Protocol):
    """Hands composed messages to a mail server, or writes them where staff read them."""

    # Whether a copy of each mail stays where staff can read it (files), so that the
    # outbox need not keep it.
    keeps_copy: bool
    # The longest one message may take to go, in seconds.
    timeout: float

    def connection(self) -> contextlib.AbstractContextManager[Callable[[EmailMessage], None]]:
        """A ``send(message)`` that stays connected while the block lasts; ``send`` raises
        :class:`MailNotSent` for a message that did not go."""
        ...


@dataclass(frozen=True)
class SmtpMailer:
    """Delivers through an SMTP server: plain, STARTTLS (``use_tls``) or SMTPS (``use_ssl``).

    An address with a non-ASCII local part (``jürgen@example.com``) goes with
    SMTPUTF8, which the server must offer; one that does not is a permanent failure.
    """

    keeps_copy = False

    host: str
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT_SECONDS

    @contextlib.contextmanager
    def connection(self) -> Iterator[Callable[[EmailMessage], None]]:
        try:
            smtp = self._connect()
        except DELIVERY_ERRORS as error:
            raise MailNotSent(
                f"{self.host}:{self.port}: {_reason(error)}", server_lost=True
            ) from error

        def send(message: EmailMessage) -> None:
            try:
                smtp.send_message(message)
            except DELIVERY_ERRORS as error:
                raise MailNotSent(
                    _reason(error),
                    permanent=_is_permanent(error),
                    server_lost=_server_lost(error),
                ) from error

        try:
            yield send
        finally:
            # What was sent is sent: a server that answers QUIT badly changes nothing.
            with contextlib.suppress(*DELIVERY_ERRORS):
                smtp.quit()
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _server_lost(error: Exception) -> bool:
    """The connection is gone (a socket error, a server that hung up), not one message refused:
    ``SMTPException`` is an ``OSError`` too, so the refusals are told apart first."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _is_permanent(error: Exception) -> bool:
    """A refusal that the same message meets again: a 5xx for the address or the message,
    or an address that needs SMTPUTF8 on a server without it."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _reason(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return (
            "the mail server does not offer SMTPUTF8, which an address with letters outside "
            "ASCII before the @ needs"
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address} refused: {code} {message.decode(errors='replace')}"
            for address, (code, message) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


@dataclass(frozen=True)
class FileMailer:
    """Writes each message as an ``.eml`` file into ``directory`` instead of sending it.

    The name is the UTC time of writing and 16 random hex digits
    (``20261122T090000123456Z-1f2e….eml``), so names sort by time and never
    collide. A file appears whole or not at all: it is written under a hidden
    temporary name in the same directory, flushed to disk, then renamed. Files
    are readable by the portal's user only (they carry sign-in links).
    """

    keeps_copy = True
    timeout = 1.0

    directory: Path
    clock: Callable[[], datetime] = utc_now

    @contextlib.contextmanager
    def connection(self) -> Iterator[Callable[[EmailMessage], None]]:
        def send(message: EmailMessage) -> None:
            try:
                self.write(message)
            except OSError as error:
                raise MailNotSent(
                    f"{self.directory}: {_reason(error)}", server_lost=True
                ) from error

        yield send

    def write(self, message: EmailMessage) -> Path:
        """Write ``message`` and return the path of its file."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{self.clock().astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(8)}.eml"
        descriptor, partial = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(message_bytes(message))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.directory / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        return self.directory / name


def mailer_from_config(config: Mapping) -> SmtpMailer | FileMailer:
    """An :class:`SmtpMailer` when ``MAIL_SERVER`` is set, else a :class:`FileMailer`."""
    if config.get("MAIL_SERVER"):
        return SmtpMailer(
            host=config["MAIL_SERVER"],
            port=int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            timeout=float(config.get("MAIL_TIMEOUT_SECONDS") or SMTP_TIMEOUT_SECONDS),
        )
    return FileMailer(directory=Path(config["OUTBOX_DIR"]))


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
# On the wire and in files: lines end in CRLF, as RFC 5322 says.
WIRE_POLICY = MAIL_POLICY.clone(linesep="\r\n")


def message_id(sender: str) -> str:
    """A new Message-ID on the sender's domain (``<…@kbs.example>``), without asking DNS
    for this host's name as ``email.utils.make_msgid`` would."""
    return f"<{secrets.token_hex(16)}@{_domain_of(sender)}>"


@functools.cache
def _domain_of(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def recipient(address: str, name: str | None = None) -> Address:
    """``address`` as a header address: a non-ASCII domain in its ASCII (IDNA) form when the
    local part is ASCII, so that no SMTPUTF8 is needed for it."""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise ValueError(f"{address!r} has no local part and domain")
    if local.isascii() and not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return Address(display_name=name or "", username=local, domain=domain)


def needs_smtputf8(address: str) -> bool:
    """Whether ``address`` can only travel with SMTPUTF8: letters outside ASCII before the @."""
    return not address.rpartition("@")[0].isascii()


def compose(mail: Mail, sender: str, date: datetime, message_id: str) -> EmailMessage:
    """The message of ``mail`` from ``sender``, dated ``date`` (aware), with ``message_id``.

    The same arguments compose the same message, so a mail sent again carries the
    Message-ID it had. Headers outside ASCII (a Russian subject, a name) are encoded
    by the ``email`` package (RFC 2047); the text is UTF-8, quoted-printable, so that
    it passes any server, 8BITMIME or not. An HTML version goes as an alternative.
    Raises :class:`MailNotSent` (permanent) for an address no message can carry.
    """
    smtputf8 = needs_smtputf8(mail.to)
    message = EmailMessage(policy=MAIL_POLICY.clone(utf8=True) if smtputf8 else MAIL_POLICY)
    try:
        message["To"] = recipient(mail.to, mail.to_name)
    except (email.errors.MessageError, ValueError, UnicodeError) as error:
        raise MailNotSent(
            f"{mail.to!r} is not an address mail can go to", permanent=True
        ) from error
    message["Subject"] = mail.subject
    message["From"] = sender
    message["Date"] = format_datetime(date.astimezone(UTC))
    message["Message-ID"] = message_id
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, mime_type, content in mail.attachments:
        # "text/calendar; method=REQUEST": the type, then its parameters.
        kind, *parameters = (part.strip() for part in mime_type.split(";"))
        maintype, _, subtype = kind.partition("/")
        params = dict(p.split("=", 1) for p in parameters if "=" in p)
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    if mail.language:
        # After the content: setting it clears every Content-* header.
        message["Content-Language"] = mail.language
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF lines, UTF-8 headers where it needs SMTPUTF8."""
    return message.as_bytes(policy=WIRE_POLICY.clone(utf8=message.policy.utf8))


def render_mail(
    name: str,
    locale: str,
    /,
    *,
    to: str,
    to_name: str | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    private: bool = False,
    **context,
) -> Mail:
    """Render ``templates/mail/<name>.txt`` (and ``<name>.html`` if there is one) in ``locale``;
    ``private`` for a mail whose link signs its reader in.

    The text template holds two blocks, ``subject`` and ``body``; the subject's
    white space is folded into one line. The body ends with the signature the app's
    ``mail_signature`` extension gives (the provider's name and contacts). Values shown
    in the mail (dates) are formatted by the caller for ``locale``: the page's own
    formatting filters keep the request's language.
    """
    environment = current_app.jinja_env
    with force_locale(locale):
        template = environment.get_template(f"mail/{name}.txt")
        variables = template.new_context(dict(context))
        subject = " ".join("".join(template.blocks["subject"](variables)).split())
        text = "".join(template.blocks["body"](variables)).strip("\n") + "\n"
        sign = current_app.extensions.get("mail_signature")
        signature = sign(locale) if sign else None
        if signature:
            text += "\n-- \n" + signature + "\n"  # the "-- " line mail programs know
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
        template=name,
        private=private,
    )


def text_of(message: EmailMessage) -> str:
    """The plain-text body of ``message``, decoded, lines ending in ``\n``; empty if none."""
    body = message.get_body(preferencelist=("plain",))
    return body.get_content().replace("\r\n", "\n") if body is not None else ""
