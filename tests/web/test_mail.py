"""Mailers: a real SMTP server on loopback, or ``.eml`` files in a folder; and composing."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser, Parser

import pytest

from portal.config import load_config
from portal.mail.services import (
    FileMailer,
    Mail,
    MailNotSent,
    SmtpMailer,
    compose,
    mailer_from_config,
    text_of,
)
from tests.smtp import free_port, smtp_server

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
MESSAGE_ID = "<0123456789abcdef0123456789abcdef@kbs.example>"
RUSSIAN = Mail(
    to="oksana@example.com",
    to_name="Оксана Петренко",
    subject="Подтвердите адрес электронной почты",
    text="Здравствуйте, Оксана!\n\nПерейдите по ссылке: https://portal.example/confirm/abc\n",
)


def send(mailer, mail: Mail = RUSSIAN, sender: str = "portal@kbs.example") -> None:
    with mailer.connection() as deliver:
        deliver(compose(mail, sender, NOW, MESSAGE_ID))


@pytest.fixture
def server():
    with smtp_server() as inbox:
        yield inbox


def smtp(inbox, **settings) -> SmtpMailer:
    return SmtpMailer(host=inbox.host, port=inbox.port, **settings)


# --- SMTP ----------------------------------------------------------------------------------


def test_smtp_delivers_a_russian_mail_with_its_subject_and_text_intact(server):
    send(smtp(server))
    (envelope,) = server.envelopes
    assert envelope.mail_from == "portal@kbs.example"
    assert envelope.rcpt_tos == ["oksana@example.com"]
    # 7-bit on the wire: encoded headers, quoted-printable UTF-8 text.
    assert envelope.original_content.isascii()
    assert b"=?utf-8?" in envelope.original_content
    (message,) = server.messages()
    assert message["Subject"] == "Подтвердите адрес электронной почты"
    assert message["To"].addresses[0].display_name == "Оксана Петренко"
    assert message["To"].addresses[0].addr_spec == "oksana@example.com"
    assert message["From"] == "portal@kbs.example"
    assert message["Date"].datetime == NOW
    assert message["Message-ID"] == MESSAGE_ID
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
def test_a_long_subject_keeps_every_space_between_its_words(server, subject):
    send(smtp(server), replace(RUSSIAN, subject=subject))
    (message,) = server.messages()
    assert message["Subject"] == subject
    assert all(len(line) <= 998 for line in server.envelopes[0].original_content.split(b"\n"))


def test_several_mails_go_over_one_connection(server):
    with smtp(server).connection() as deliver:
        for number in range(3):
            deliver(
                compose(
                    replace(RUSSIAN, subject=f"№{number}"),
                    "p@kbs.example",
                    NOW,
                    f"<{number}@kbs.example>",
                )
            )
    assert [m["Subject"] for m in server.messages()] == ["№0", "№1", "№2"]


def test_smtp_signs_in_when_a_user_is_configured(server):
    send(smtp(server, username="portal", password="secret"))
    assert server.logins == [(b"portal", b"secret")]
    assert len(server.envelopes) == 1


def test_smtp_refusing_the_login_is_a_mail_not_sent_that_may_go_later(server):
    with pytest.raises(MailNotSent) as refused:
        send(smtp(server, username="portal", password="wrong"))
    assert not refused.value.permanent  # fixing the password makes it go
    assert server.envelopes == []


def test_no_smtp_server_listening_is_a_mail_not_sent_with_the_server_lost():
    with pytest.raises(MailNotSent) as refused:
        send(SmtpMailer(host="127.0.0.1", port=free_port(), timeout=2))
    assert refused.value.server_lost and not refused.value.permanent


def test_a_recipient_the_server_refuses_for_good_is_a_permanent_failure(server):
    server.refuse["oksana@example.com"] = "550 5.1.1 No such user"
    with pytest.raises(MailNotSent, match="No such user") as refused:
        send(smtp(server))
    assert refused.value.permanent and not refused.value.server_lost


def test_a_recipient_refused_for_now_may_go_later(server):
    server.refuse["oksana@example.com"] = "451 4.7.1 Greylisted, try again"
    with pytest.raises(MailNotSent) as refused:
        send(smtp(server))
    assert not refused.value.permanent and not refused.value.server_lost


def test_the_password_of_the_smtp_server_is_never_in_the_mailers_repr():
    assert "secret" not in repr(SmtpMailer(host="mx", username="portal", password="secret"))


def test_an_html_version_goes_as_an_alternative(server):
    send(
        smtp(server), Mail(to="a@example.com", subject="Hi", text="Hello\n", html="<p>Hello</p>\n")
    )
    (message,) = server.messages()
    assert message.get_content_type() == "multipart/alternative"
    assert text_of(message) == "Hello\n"
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == "<p>Hello</p>\n"


# --- addresses outside ASCII -----------------------------------------------------------------


def test_an_address_with_a_non_ascii_local_part_goes_with_smtputf8(server):
    send(smtp(server), replace(RUSSIAN, to="jürgen@example.com", to_name="Jürgen Groß"))
    (envelope,) = server.envelopes
    assert envelope.rcpt_tos == ["jürgen@example.com"]
    assert "SMTPUTF8" in [option.upper() for option in envelope.mail_options]
    (message,) = server.messages()
    assert message["To"].addresses[0].addr_spec == "jürgen@example.com"
    assert text_of(message) == RUSSIAN.text


def test_a_server_without_smtputf8_refuses_such_an_address_for_good():
    with smtp_server(smtputf8=False) as inbox:
        with pytest.raises(MailNotSent, match="SMTPUTF8") as refused:
            send(smtp(inbox), replace(RUSSIAN, to="jürgen@example.com"))
        assert refused.value.permanent
        assert inbox.envelopes == []


def test_a_non_ascii_domain_travels_in_its_ascii_form_without_smtputf8():
    with smtp_server(smtputf8=False) as inbox:
        send(smtp(inbox), replace(RUSSIAN, to="olga@пример.рф"))
        (envelope,) = inbox.envelopes
        assert envelope.rcpt_tos == ["olga@xn--e1afmkfd.xn--p1ai"]


@pytest.mark.parametrize("address", ["x@example.com\r\nBcc: evil@example.net", "no-at-all"])
def test_an_address_no_message_can_carry_is_a_permanent_failure(address):
    with pytest.raises(MailNotSent) as refused:
        compose(replace(RUSSIAN, to=address), "p@kbs.example", NOW, MESSAGE_ID)
    assert refused.value.permanent


# --- files ---------------------------------------------------------------------------------


def test_the_file_mailer_writes_a_parseable_eml_file_only_its_owner_can_read(tmp_path):
    folder = tmp_path / "outbox"
    send(FileMailer(folder))
    (path,) = folder.iterdir()
    assert path.name.endswith(".eml") and path.name.startswith("20")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert message["Subject"] == RUSSIAN.subject
    assert message["To"].addresses[0].addr_spec == "oksana@example.com"
    assert message["Message-ID"] == MESSAGE_ID
    assert text_of(message) == RUSSIAN.text
    assert b"\r\n" in path.read_bytes()  # lines end as RFC 5322 says


def test_file_names_carry_the_time_and_sort_by_it(tmp_path):
    times = iter([datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 22, 9, 0, 1, tzinfo=UTC)])
    mailer = FileMailer(tmp_path, clock=lambda: next(times))
    send(mailer)
    send(mailer)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0].startswith("20261122T090001000000Z-")
    assert names[1].startswith("20261123T000000000000Z-")


def test_a_non_ascii_address_is_written_in_utf8(tmp_path):
    send(FileMailer(tmp_path), replace(RUSSIAN, to="jürgen@example.com"))
    (path,) = tmp_path.iterdir()
    message = Parser(policy=policy.default).parsestr(path.read_text(encoding="utf-8"))
    assert message["To"].addresses[0].addr_spec == "jürgen@example.com"


def test_a_failed_file_write_leaves_no_partial_file(tmp_path):
    class Unwritable:
        policy = policy.default

        def as_bytes(self, policy):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        FileMailer(tmp_path).write(Unwritable())
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_a_mail_not_sent(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(MailNotSent) as refused:
        send(FileMailer(blocker))
    assert refused.value.server_lost


# --- configuration -------------------------------------------------------------------------


def test_mail_goes_to_files_unless_a_mail_server_is_set(tmp_path):
    settings = load_config({}, tmp_path)
    assert settings["MAIL_SERVER"] is None
    mailer = mailer_from_config(settings)
    assert mailer == FileMailer(tmp_path / "outbox")
    assert settings["MAIL_FROM"] == "portal@localhost"


def test_mail_settings_come_from_the_environment(tmp_path):
    environ = {
        "MAIL_SERVER": "smtp.example.com",
        "MAIL_PORT": "587",
        "MAIL_USE_TLS": "true",
        "MAIL_USERNAME": "portal",
        "MAIL_PASSWORD": "secret",
        "MAIL_TIMEOUT_SECONDS": "20",
    }
    mailer = mailer_from_config(load_config(environ, tmp_path))
    assert mailer == SmtpMailer(
        host="smtp.example.com",
        port=587,
        use_tls=True,
        use_ssl=False,
        username="portal",
        password="secret",
        timeout=20,
    )
    assert mailer_from_config(load_config({"MAIL_SERVER": "mx"}, tmp_path)).port == 25


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAIL_RETRY_SECONDS", "0"), ("MAIL_RETRY_HOURS", "soon"), ("MAIL_TIMEOUT_SECONDS", "-1")],
)
def test_a_mail_setting_that_is_no_number_in_range_is_refused_at_start(tmp_path, name, value):
    with pytest.raises(ValueError, match=name):
        load_config({name: value}, tmp_path)


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


def test_the_app_chooses_its_mailer_from_its_settings(make_app, tmp_path, server):
    assert make_app(OUTBOX_DIR=str(tmp_path)).extensions["mailer"] == FileMailer(tmp_path)
    smtp_app = make_app(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    assert isinstance(smtp_app.extensions["mailer"], SmtpMailer)
