"""Mail: delivered by a real SMTP server on loopback, or written to the outbox for staff to read."""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import PASSWORD, link_in

from portal.config import load_config
from portal.mail.services import (
    OUTBOX_NAME,
    Mail,
    MailNotSent,
    OutboxMailer,
    SmtpMailer,
    deliver,
    mailer_from_config,
    outbox_entries,
    outbox_message,
    text_of,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RUSSIAN = Mail(
    to="oksana@example.com",
    to_name="Оксана Петренко",
    subject="Подтвердите адрес электронной почты",
    text="Здравствуйте, Оксана!\n\nПерейдите по ссылке: https://portal.example/confirm/abc\n",
)


@dataclass
class Inbox:
    """What the SMTP server received: each envelope's sender, recipients and message."""

    host: str
    port: int
    envelopes: list = field(default_factory=list)
    logins: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [
            BytesParser(policy=policy.default).parsebytes(envelope.original_content)
            for envelope in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on 127.0.0.1 and a free port; it accepts user ``portal``, ``secret``."""
    inbox = Inbox("127.0.0.1", free_port())

    def authenticate(server, session, envelope, mechanism, auth_data):
        inbox.logins.append((auth_data.login, auth_data.password))
        accepted = (auth_data.login, auth_data.password) == (b"portal", b"secret")
        return AuthResult(success=accepted, handled=False)

    controller = Controller(
        inbox,
        hostname=inbox.host,
        port=inbox.port,
        authenticator=authenticate,
        auth_require_tls=False,  # loopback, and the test server has no certificate
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


# --- SMTP ----------------------------------------------------------------------------------


def test_smtp_delivers_a_russian_mail_with_its_subject_and_text_intact(smtp_server):
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, sender="portal@kbs.example")
    deliver(mailer, RUSSIAN, NOW)
    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "portal@kbs.example"
    assert envelope.rcpt_tos == ["oksana@example.com"]
    # 7-bit on the wire: encoded headers, quoted-printable UTF-8 text.
    assert envelope.original_content.isascii()
    assert b"=?utf-8?" in envelope.original_content
    (message,) = smtp_server.messages()
    assert message["Subject"] == "Подтвердите адрес электронной почты"
    assert message["To"].addresses[0].display_name == "Оксана Петренко"
    assert message["To"].addresses[0].addr_spec == "oksana@example.com"
    assert message["From"] == "portal@kbs.example"
    assert message["Date"].datetime == NOW
    assert message["Message-ID"].endswith("@kbs.example>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert text_of(message) == RUSSIAN.text


@pytest.mark.parametrize(
    "subject",
    [
        "نشانی ایمیل خود را برای سازمان شرکت آزمایشی پارس تأیید کنید",
        "Підтвердьте адресу електронної пошти для організації ТОВ «Зоря Поділля» (Вінниця)",
    ],
    ids=["persian", "ukrainian"],
)
def test_a_long_subject_keeps_every_space_between_its_words(smtp_server, subject):
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, sender="portal@kbs.example")
    deliver(mailer, replace(RUSSIAN, subject=subject), NOW)
    (message,) = smtp_server.messages()
    assert message["Subject"] == subject
    assert all(len(line) <= 998 for line in smtp_server.envelopes[0].original_content.split(b"\n"))


def test_smtp_signs_in_when_a_user_is_configured(smtp_server):
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, username="portal", password="secret"
    )
    deliver(mailer, RUSSIAN, NOW)
    assert smtp_server.logins == [(b"portal", b"secret")]
    assert len(smtp_server.envelopes) == 1


def test_smtp_refusing_the_login_is_a_mail_not_sent(smtp_server):
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, username="portal", password="wrong"
    )
    with pytest.raises(MailNotSent, match=r"oksana@example\.com"):
        deliver(mailer, RUSSIAN, NOW)
    assert smtp_server.envelopes == []


def test_no_smtp_server_listening_is_a_mail_not_sent():
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(MailNotSent):
        deliver(mailer, RUSSIAN, NOW)


def test_the_password_of_the_smtp_server_is_never_in_the_mailers_repr():
    assert "secret" not in repr(SmtpMailer(host="mx", username="portal", password="secret"))


def test_an_html_version_goes_as_an_alternative(smtp_server):
    mail = Mail(to="a@example.com", subject="Hi", text="Hello\n", html="<p>Hello</p>\n")
    deliver(SmtpMailer(host=smtp_server.host, port=smtp_server.port), mail, NOW)
    (message,) = smtp_server.messages()
    assert message.get_content_type() == "multipart/alternative"
    assert text_of(message) == "Hello\n"
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == "<p>Hello</p>\n"


# --- the outbox ----------------------------------------------------------------------------


def test_the_outbox_writes_a_parseable_eml_file_only_its_owner_can_read(tmp_path):
    outbox = tmp_path / "outbox"
    deliver(OutboxMailer(outbox, sender="portal@localhost"), RUSSIAN, NOW)
    (path,) = outbox.iterdir()
    assert OUTBOX_NAME.match(path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert message["Subject"] == RUSSIAN.subject
    assert message["To"].addresses[0].addr_spec == "oksana@example.com"
    assert text_of(message) == RUSSIAN.text
    assert b"\r\n" in path.read_bytes()  # lines end as RFC 5322 says


def test_outbox_names_carry_the_time_and_sort_newest_first(tmp_path):
    times = iter([datetime(2026, 11, 22, 9, 0, 1, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)])
    mailer = OutboxMailer(tmp_path, clock=lambda: next(times))
    deliver(mailer, Mail(to="a@example.com", subject="First", text="1\n"), NOW)
    deliver(mailer, Mail(to="b@example.com", subject="Second", text="2\n"), NOW)
    entries = outbox_entries(tmp_path)
    assert [e.subject for e in entries] == ["Second", "First"]
    assert entries[0].name.startswith("20261123T000000000000Z-")
    assert entries[1].name.startswith("20261122T090001000000Z-")
    assert entries[0].to == "b@example.com"
    assert entries[0].date == NOW


def test_a_failed_outbox_write_leaves_no_partial_file(tmp_path):
    class Unwritable:
        def as_bytes(self, policy):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        OutboxMailer(tmp_path).write(Unwritable())
    assert list(tmp_path.iterdir()) == []


def test_an_outbox_that_cannot_be_written_is_a_mail_not_sent(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(MailNotSent):
        deliver(OutboxMailer(blocker), RUSSIAN, NOW)


@pytest.mark.parametrize(
    "name",
    [
        "../secret_key",
        "20261122T090000000000Z-0123456789abcdef.eml/..",
        "20261122T090000000000Z-0123456789ABCDEF.eml",
        "20261122T090000000000Z-0123456789abcdef.txt",
        ".20261122T090000000000Z-0123456789abcdef.eml",
        "20261122T090000000000Z-0123456789abcdef.eml\n",
    ],
)
def test_only_the_outboxs_own_names_are_read(tmp_path, name):
    (tmp_path / "secret_key").write_text("x")
    assert outbox_message(tmp_path / "outbox", name) is None


# --- configuration -------------------------------------------------------------------------


def test_mail_goes_to_the_outbox_unless_a_mail_server_is_set(tmp_path):
    settings = load_config({}, tmp_path)
    assert settings["MAIL_SERVER"] is None
    mailer = mailer_from_config(settings)
    assert isinstance(mailer, OutboxMailer)
    assert mailer.directory == tmp_path / "outbox"
    assert mailer.sender == "portal@localhost"


def test_mail_settings_come_from_the_environment(tmp_path):
    environ = {
        "MAIL_SERVER": "smtp.example.com",
        "MAIL_PORT": "587",
        "MAIL_USE_TLS": "true",
        "MAIL_USERNAME": "portal",
        "MAIL_PASSWORD": "secret",
        "MAIL_FROM": "Support <support@example.com>",
    }
    mailer = mailer_from_config(load_config(environ, tmp_path))
    assert mailer == SmtpMailer(
        host="smtp.example.com",
        port=587,
        use_tls=True,
        use_ssl=False,
        username="portal",
        password="secret",
        sender="Support <support@example.com>",
    )
    assert mailer_from_config(load_config({"MAIL_SERVER": "mx"}, tmp_path)).port == 25


def test_token_lifetimes_default_to_two_days_and_one_hour_and_can_be_set(tmp_path):
    assert load_config({}, tmp_path)["TOKEN_MAX_AGE_SECONDS"] == {
        "confirm": 172800,
        "invitation": 172800,
        "reset": 3600,
    }
    ages = load_config({"TOKEN_MAX_AGE_SECONDS": "reset=600, confirm=60"}, tmp_path)
    assert ages["TOKEN_MAX_AGE_SECONDS"] == {"confirm": 60, "invitation": 172800, "reset": 600}
    for wrong in ("reset", "reset=-1", "forever=10", "reset=1h"):
        with pytest.raises(ValueError, match="TOKEN_MAX_AGE_SECONDS"):
            load_config({"TOKEN_MAX_AGE_SECONDS": wrong}, tmp_path)


def test_the_app_chooses_its_mailer_from_its_settings(make_app, tmp_path, smtp_server):
    outbox_app = make_app(OUTBOX_DIR=str(tmp_path))
    assert outbox_app.extensions["mailer"] == OutboxMailer(tmp_path, sender="portal@localhost")
    smtp_app = make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    assert isinstance(smtp_app.extensions["mailer"], SmtpMailer)


# --- the staff outbox page -----------------------------------------------------------------


def test_staff_read_the_outbox_newest_first_and_each_mail_as_text(client, staff, outbox, page):
    times = iter([datetime(2026, 11, 22, 8, tzinfo=UTC), datetime(2026, 11, 22, 9, tzinfo=UTC)])
    mailer = OutboxMailer(outbox, clock=lambda: next(times))
    deliver(mailer, Mail(to="old@example.com", subject="Older", text="old\n"), NOW)
    deliver(mailer, RUSSIAN, NOW)
    response = client.get("/staff/outbox?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "writes each mail here instead of sending it" in html
    assert html.index(RUSSIAN.subject) < html.index("Older")
    newest = outbox_entries(outbox)[0]
    assert f'href="/staff/outbox/{newest.name}"' in html
    assert "22 November 2026, 11:00" in html  # in the catalog's time zone, Kyiv

    shown = client.get(f"/staff/outbox/{newest.name}?lang=en")
    assert shown.status_code == 200
    text = page(shown.get_data(as_text=True)).text("mail-text")
    assert text.startswith("Здравствуйте, Оксана!")
    assert '<a href="https://portal.example/confirm/abc"' in shown.get_data(as_text=True)
    assert "oksana@example.com" in page(shown.get_data(as_text=True)).text("mail-to")


def test_the_outbox_page_says_so_when_mail_goes_through_smtp(make_app, form_client, make_user):
    app = make_app(MAIL_SERVER="smtp.example.com", MAIL_PORT=587)
    staff_client = form_client(app.test_client())
    make_user("staff@example.com", role="staff")
    staff_client.sign_in("staff@example.com")
    html = staff_client.client.get("/staff/outbox?lang=en").get_data(as_text=True)
    assert "Mail goes through the SMTP server smtp.example.com:587." in html


def test_an_empty_outbox_says_so(client, staff):
    assert "The outbox is empty." in client.get("/staff/outbox?lang=en").get_data(as_text=True)


@pytest.mark.parametrize(
    "name",
    ["..%2Fsecret_key", "20261122T090000000000Z-0123456789abcdef.eml", "nothing", "%2e%2e"],
)
def test_a_name_that_is_not_an_outbox_mail_is_a_404(client, staff, outbox, name):
    deliver(OutboxMailer(outbox), RUSSIAN, NOW)
    assert client.get(f"/staff/outbox/{name}").status_code == 404


def test_the_outbox_is_for_staff_only(client, make_user, forms, outbox):
    deliver(OutboxMailer(outbox), RUSSIAN, NOW)
    (name,) = os.listdir(outbox)
    for path in ("/staff/outbox", f"/staff/outbox/{name}"):
        anonymous = client.get(path)
        assert anonymous.status_code == 302
        assert anonymous.location.startswith("/login?next=")
    make_user("client@example.com", role="client")
    forms.sign_in("client@example.com")
    for path in ("/staff/outbox", f"/staff/outbox/{name}"):
        refused = client.get(path)
        assert refused.status_code == 404
        assert RUSSIAN.subject not in refused.get_data(as_text=True)


def test_with_a_mail_server_set_the_confirmation_of_a_registration_goes_through_smtp(
    make_app, form_client, smtp_server, outbox
):
    app = make_app(
        MAIL_SERVER=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_FROM="KBS <portal@kbs.example>",
        OUTBOX_DIR=str(outbox),
    )
    forms = form_client(app.test_client())
    registered = forms.submit(
        "/register",
        "/register",
        {
            "organization": "ООО Ромашка",
            "name": "Ольга",
            "email": "olga@romashka.example",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "language": "ru",
            "timezone": "Europe/Moscow",
            "terms": "y",
        },
    )
    assert registered.status_code == 303
    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "portal@kbs.example"
    assert envelope.rcpt_tos == ["olga@romashka.example"]
    (message,) = smtp_server.messages()
    assert message["Content-Language"] == "ru"
    assert "ООО Ромашка" in message["Subject"]
    assert "2 дня" in text_of(message)
    assert not outbox.exists()
    assert 'id="registered-outbox"' not in forms.client.get("/register/sent").get_data(as_text=True)
    assert forms.client.get(link_in(message)).location == "/account"
