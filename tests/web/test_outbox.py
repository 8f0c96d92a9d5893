"""The outbox: mail written with the action that causes it, delivered once after the commit,
retried while the server is away, and shown to staff with what went wrong."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.mail.outbox import Outbox, Retry, deliver_due
from portal.mail.services import Mail, MailNotSent, SmtpMailer
from portal.models import OutboxMail
from tests.smtp import Inbox, free_port, smtp_server

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RETRY = Retry(first=timedelta(seconds=30), longest=timedelta(hours=1))
OUTBOX = Outbox("Support <portal@kbs.example>", RETRY)


def mail(number: int = 1, to: str | None = None) -> Mail:
    return Mail(
        to=to or f"client{number}@example.com",
        subject=f"Mail {number}",
        text=f"Text {number}\n",
        template="test",
    )


class Clock:
    """The time a test says it is."""

    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


class Recorder:
    """A mailer that keeps what it is given; ``refuse`` makes it raise instead."""

    keeps_copy = False
    timeout = 1.0

    def __init__(self) -> None:
        self.messages = []
        self.refuse: MailNotSent | None = None
        self.connections = 0

    @contextmanager
    def connection(self):
        self.connections += 1
        if self.refuse is not None and self.refuse.server_lost:
            raise self.refuse

        def send(message):
            if self.refuse is not None:
                raise self.refuse
            self.messages.append(message)

        yield send


def rows(session) -> list[OutboxMail]:
    session.expire_all()
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def put(session, *mails: Mail, now: datetime = NOW) -> None:
    for item in mails:
        OUTBOX.put(session, item, now)
    session.commit()


@pytest.fixture
def outbox_app(make_app, outbox):
    """An app whose jobs are not run where they are asked for: the test delivers."""
    return make_app(OUTBOX_DIR=str(outbox), JOBS_IMMEDIATE=False)


@pytest.fixture
def session(outbox_app):
    with outbox_app.app_context():
        yield db.session


# --- written with the action, delivered after it -----------------------------------------------


def test_a_rolled_back_action_sends_nothing(app, mails):
    with app.app_context():
        OUTBOX.put(db.session, mail(), NOW)
        db.session.rollback()
        assert rows(db.session) == []
    assert mails() == []


def test_a_committed_action_is_delivered_once_after_the_commit(app, mails):
    with app.app_context():
        OUTBOX.put(db.session, mail(), NOW)
        assert mails() == []  # nothing leaves before the commit
        db.session.commit()
        (row,) = rows(db.session)
        assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
    (message,) = mails()
    assert message["Message-ID"] == row.message_id
    assert message["From"] == "Support <portal@kbs.example>"
    with app.app_context():
        app.extensions["jobs"].run_by_hand("mail.deliver")  # again: nothing more
    assert len(mails()) == 1


def test_delivery_sends_what_is_due_and_marks_it_sent(session):
    put(session, mail(1), mail(2))
    recorder = Recorder()
    report = deliver_due(session, recorder, Clock(), RETRY)
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    assert [m["Subject"] for m in recorder.messages] == ["Mail 1", "Mail 2"]
    assert recorder.connections == 1  # one connection for the batch
    assert [r.status for r in rows(session)] == ["sent", "sent"]
    assert deliver_due(session, recorder, Clock(), RETRY).sent == 0


def test_an_attachment_travels_with_its_mail(session):
    OUTBOX.put(
        session,
        Mail(
            to="a@example.com",
            subject="Invoice",
            text="x\n",
            attachments=(("INV-000001.pdf", "application/pdf", b"%PDF-1.7"),),
        ),
        NOW,
    )
    session.commit()
    recorder = Recorder()
    deliver_due(session, recorder, Clock(), RETRY)
    (message,) = recorder.messages
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "INV-000001.pdf"
    assert attachment.get_content() == b"%PDF-1.7"


# --- a worker that dies ------------------------------------------------------------------------


def test_a_worker_that_died_after_the_server_took_the_mail_sends_it_again_with_its_message_id(
    session,
):
    put(session, mail())
    clock = Clock()

    class DiesAfterSending(Recorder):
        @contextmanager
        def connection(self):
            def send(message):
                self.messages.append(message)  # the server has it...
                raise SystemExit("worker killed")  # ...and the worker dies before marking it

            yield send

    dying = DiesAfterSending()
    with pytest.raises(SystemExit):
        deliver_due(session, dying, clock, RETRY)
    session.rollback()
    (row,) = rows(session)
    assert row.status == "pending" and row.claimed_until == NOW + RETRY.claim
    # Another worker leaves it alone while the claim lasts, and sends it once it has expired.
    other = Recorder()
    assert deliver_due(session, other, clock, RETRY).sent == 0
    clock.advance(minutes=11)
    assert deliver_due(session, other, clock, RETRY).sent == 1
    assert other.messages[0]["Message-ID"] == dying.messages[0]["Message-ID"]
    assert other.messages[0]["Date"] == dying.messages[0]["Date"]
    assert rows(session)[0].status == "sent"


def test_two_workers_at_once_send_each_mail_once(session, outbox_app):
    put(session, *(mail(number) for number in range(40)))
    sent: list[tuple[str, str]] = []
    lock = threading.Lock()
    # Each worker's first send waits for the other's: both hold a batch at the same time.
    together = threading.Barrier(2, timeout=20)

    class Worker(Recorder):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        @contextmanager
        def connection(self):
            def send(message):
                if not any(name == self.name for name, _id in sent):
                    together.wait()
                with lock:
                    sent.append((self.name, message["Message-ID"]))

            yield send

    def worker(name: str):
        with outbox_app.app_context():
            deliver_due(db.session, Worker(name), Clock(), RETRY, batch=5)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [message_id for _name, message_id in sent]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert {name for name, _id in sent} == {"a", "b"}
    assert {r.status for r in rows(session)} == {"sent"}


# --- retries -----------------------------------------------------------------------------------


def test_a_server_that_is_down_delays_mail_with_growing_pauses_for_24_hours(session):
    put(session, mail())
    clock, down = Clock(), Recorder()
    down.refuse = MailNotSent("127.0.0.1:25: ConnectionRefusedError", server_lost=True)
    waits = []
    while rows(session)[0].status == "pending":
        deliver_due(session, down, clock, RETRY)
        row = rows(session)[0]
        if row.status == "pending":
            waits.append(row.next_attempt_at - clock())
            clock.moment = row.next_attempt_at
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(waits) == timedelta(hours=1)
    row = rows(session)[0]
    assert row.status == "failed"
    assert clock() - NOW == timedelta(hours=24)  # the last try at 24 hours, not before
    assert "ConnectionRefusedError" in row.last_error
    assert row.attempts == len(waits) + 1


def test_mail_waiting_for_the_server_goes_when_it_is_back(session):
    put(session, mail(1), mail(2))
    clock, server = Clock(), Recorder()
    server.refuse = MailNotSent("down", server_lost=True)
    report = deliver_due(session, server, clock, RETRY)
    assert (report.sent, report.retrying) == (0, 2)
    server.refuse = None
    assert deliver_due(session, server, clock, RETRY).sent == 0  # not before its next attempt
    clock.advance(seconds=30)
    assert deliver_due(session, server, clock, RETRY).sent == 2


def test_a_refusal_no_retry_changes_fails_the_mail_at_once_and_the_others_go(session):
    put(session, mail(1, to="nobody@example.com"), mail(2))
    with smtp_server() as inbox:
        inbox.refuse["nobody@example.com"] = "550 5.1.1 No such user"
        report = deliver_due(session, SmtpMailer(inbox.host, inbox.port), Clock(), RETRY)
        assert (report.sent, report.failed) == (1, 1)
        assert [m["Subject"] for m in inbox.messages()] == ["Mail 2"]
    failed, sent = rows(session)
    assert failed.status == "failed" and "550 5.1.1 No such user" in failed.last_error
    assert sent.status == "sent"


def test_an_address_that_needs_smtputf8_fails_clearly_on_a_server_without_it(session):
    put(session, mail(to="jürgen@example.com"))
    with smtp_server(smtputf8=False) as inbox:
        deliver_due(session, SmtpMailer(inbox.host, inbox.port), Clock(), RETRY)
    (row,) = rows(session)
    assert row.status == "failed" and "SMTPUTF8" in row.last_error


def test_a_real_smtp_server_stopped_for_a_while_delays_the_mail_and_loses_none(session):
    port = free_port()
    put(session, mail(1), mail(2), mail(3))
    clock = Clock()
    mailer = SmtpMailer("127.0.0.1", port, timeout=2)
    assert deliver_due(session, mailer, clock, RETRY).retrying == 3
    inbox = Inbox("127.0.0.1", port)
    with smtp_server(port, inbox=inbox):
        clock.advance(seconds=30)
        assert deliver_due(session, mailer, clock, RETRY).sent == 3
    assert sorted(m["Subject"] for m in inbox.messages()) == ["Mail 1", "Mail 2", "Mail 3"]


# --- the staff outbox --------------------------------------------------------------------------


def given(app, *mails: Mail, status: str = "pending", error: str | None = None) -> list[int]:
    """Mail in the outbox, in ``status``, without delivering it."""
    with app.app_context():
        written = [OUTBOX.put(db.session, item, NOW) for item in mails]
        db.session.flush()
        ids = [row.id for row in written]
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(ids))
            .values(
                status=status,
                last_error=error,
                attempts=1 if error or status == "sent" else 0,
                sent_at=NOW if status == "sent" else None,
            )
        )
        db.session.info.pop("portal.mail_waiting", None)  # the test delivers nothing here
        db.session.commit()
        return ids


def test_staff_see_each_mail_with_its_state_newest_first(client, staff, app):
    given(app, mail(1), status="sent")
    given(app, mail(2), status="failed", error="550 5.1.1 No such user")
    html = client.get("/staff/outbox?lang=en").get_data(as_text=True)
    assert html.index("Mail 2") < html.index("Mail 1")
    assert "Not delivered" in html and "550 5.1.1 No such user" in html
    assert 'data-status="sent"' in html
    assert "is written as a file to" in html  # no mail server: files


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        pytest.param("status=failed", ["Mail 2"], ["Mail 1"], id="only the mail not delivered"),
        pytest.param("status=sent", ["Mail 1"], ["Mail 2"], id="only the mail sent"),
        pytest.param("q=CLIENT2@", ["Mail 2"], ["Mail 1"], id="by recipient, case aside"),
        pytest.param("q=mail+1", ["Mail 1"], ["Mail 2"], id="by the words of the subject"),
        pytest.param("status=nonsense", ["Mail 1", "Mail 2"], [], id="an unknown state shows all"),
    ],
)
def test_staff_filter_and_search_the_outbox(client, staff, app, query, shown, hidden):
    given(app, mail(1), status="sent")
    given(app, mail(2), status="failed", error="refused")
    response = client.get(f"/staff/outbox?{query}&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert all(f">{s}<" in html for s in shown)
    assert not any(f">{h}<" in html for h in hidden)


def test_a_search_is_in_any_alphabet(client, staff, app):
    given(app, Mail(to="a@example.com", subject="Подтвердите адрес", text="x\n"), status="sent")
    html = client.get("/staff/outbox?q=подтвердите&lang=en").get_data(as_text=True)
    assert ">Подтвердите адрес<" in html


def test_the_outbox_is_shown_a_page_at_a_time(client, staff, app):
    given(app, *(mail(number) for number in range(1, 56)), status="sent")
    first = client.get("/staff/outbox?lang=en").get_data(as_text=True)
    assert "1–50 of 55" in first and ">Mail 55<" in first and ">Mail 5<" not in first
    assert 'rel="next" href="?lang=en&amp;page=2"' in first  # the language kept
    second = client.get("/staff/outbox?page=2&lang=en").get_data(as_text=True)
    assert "51–55 of 55" in second and ">Mail 5<" in second
    assert client.get("/staff/outbox?page=99&lang=en").status_code == 200  # the last page
    assert client.get("/staff/outbox?page=x&lang=en").status_code == 200  # the first


def test_staff_send_a_mail_that_was_not_delivered_again(client, staff, app, forms, mails):
    (failed,) = given(app, mail(7), status="failed", error="550 mailbox full")
    page = client.get(f"/staff/outbox/{failed}?lang=en")
    assert "550 mailbox full" in page.get_data(as_text=True)
    response = forms.submit(f"/staff/outbox/{failed}", f"/staff/outbox/{failed}/send")
    assert response.status_code == 303
    assert response.location == f"/staff/outbox/{failed}"
    (message,) = [m for m in mails() if m["Subject"] == "Mail 7"]
    with app.app_context():
        row = db.session.get(OutboxMail, failed)
        assert row.status == "sent" and message["Message-ID"] == row.message_id
    assert "is on its way again" in client.get(response.location + "?lang=en").get_data(
        as_text=True
    )


def test_sending_a_sent_mail_again_sends_a_copy_of_its_own(client, staff, app, forms, mails):
    (sent,) = given(app, mail(8), status="sent")
    response = forms.submit(f"/staff/outbox/{sent}", f"/staff/outbox/{sent}/send")
    copy_id = int(response.location.rsplit("/", 1)[1])
    assert copy_id != sent
    with app.app_context():
        original, copy = db.session.get(OutboxMail, sent), db.session.get(OutboxMail, copy_id)
        assert copy.message_id != original.message_id and copy.subject == original.subject
    (message,) = mails()
    assert message["Message-ID"] == copy.message_id


def test_the_mail_page_shows_the_text_with_its_links(client, staff, app):
    (written,) = given(
        app,
        Mail(
            to="o@example.com",
            to_name="Оксана",
            subject="Link",
            text="Open https://portal.example/confirm/abc\n",
        ),
        status="sent",
    )
    html = client.get(f"/staff/outbox/{written}?lang=en").get_data(as_text=True)
    assert '<a href="https://portal.example/confirm/abc"' in html
    assert "Оксана &lt;o@example.com&gt;" in html


def test_the_outbox_says_so_when_mail_goes_through_smtp(make_app, form_client, make_user):
    app = make_app(MAIL_SERVER="smtp.example.com", MAIL_PORT=587)
    staff_client = form_client(app.test_client())
    make_user("staff@example.com", role="staff")
    staff_client.sign_in("staff@example.com")
    html = staff_client.client.get("/staff/outbox?lang=en").get_data(as_text=True)
    assert "Mail goes through the SMTP server <bdi>smtp.example.com:587</bdi>." in html


def test_an_empty_outbox_says_so(client, staff):
    assert "The outbox is empty." in client.get("/staff/outbox?lang=en").get_data(as_text=True)


def test_the_outbox_is_for_staff_only(client, app, make_user, forms):
    (written,) = given(app, mail(), status="sent")
    paths = ("/staff/outbox", f"/staff/outbox/{written}")
    for path in paths:
        anonymous = client.get(path)
        assert anonymous.status_code == 302
        assert anonymous.location.startswith("/login?next=")
    make_user("client@example.com", role="client")
    forms.sign_in("client@example.com")
    for path in paths:
        refused = client.get(path)
        assert refused.status_code == 404
        assert "Mail 1" not in refused.get_data(as_text=True)
    assert client.post(f"/staff/outbox/{written}/send").status_code in (400, 404)


def test_a_mail_that_is_not_there_is_a_404(client, staff):
    assert client.get("/staff/outbox/999999").status_code == 404


# --- mail that carries a sign-in link --------------------------------------------------------


def private(number: int = 1) -> Mail:
    return Mail(
        to=f"client{number}@example.com",
        subject=f"Confirm {number}",
        text=f"Open https://portal.example/confirm/secret-{number}\n",
        template="confirm_email",
        private=True,
    )


def test_a_sign_in_link_is_dropped_from_the_outbox_once_the_mail_server_has_it(session):
    put(session, private(1), mail(2))
    with smtp_server() as inbox:
        deliver_due(session, SmtpMailer(inbox.host, inbox.port), Clock(), RETRY)
        assert "secret-1" in inbox.messages()[0].get_body(("plain",)).get_content()
    link, plain = rows(session)
    assert (link.status, link.text, link.html) == ("sent", "", None)
    assert plain.text == "Text 2\n"  # other mail is kept as it was


def test_a_sign_in_link_delivered_as_a_file_stays_readable_there(app, outbox):
    with app.app_context():
        OUTBOX.put(db.session, private(1), NOW)
        db.session.commit()
        (row,) = rows(db.session)
        assert row.status == "sent" and "secret-1" in row.text  # the file has it anyway
    assert "secret-1" in next(outbox.glob("*.eml")).read_text()


def test_staff_never_read_a_sign_in_link_that_went_through_smtp(make_app, form_client, make_user):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT_SECONDS=1)
    with app.app_context():
        written = OUTBOX.put(db.session, private(1), NOW)
        db.session.commit()  # the server is down: it waits, text and all
        mail_id = written.id
    make_user("staff@example.com")
    desk = form_client(app.test_client())
    desk.sign_in("staff@example.com")
    html = desk.client.get(f"/staff/outbox/{mail_id}?lang=en").get_data(as_text=True)
    assert "secret-1" not in html
    assert "its text is for its reader only" in html
    assert 'id="send-again"' in html  # waiting: it may be tried again


def test_a_sent_sign_in_link_cannot_be_sent_again_as_a_copy(client, staff, app, forms):
    with app.app_context():
        row = OUTBOX.put(db.session, private(1), NOW)
        db.session.flush()
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == row.id)
            .values(status="sent", sent_at=NOW, text="")
        )
        db.session.info.pop("portal.mail_waiting", None)
        db.session.commit()
        mail_id = row.id
    page = client.get(f"/staff/outbox/{mail_id}?lang=en").get_data(as_text=True)
    assert 'id="send-again"' not in page
    refused = forms.submit(f"/staff/outbox/{mail_id}", f"/staff/outbox/{mail_id}/send")
    assert refused.status_code == 303
    after = client.get(refused.location + "?lang=en").get_data(as_text=True)
    assert "which is not kept once sent" in after
    with app.app_context():
        assert db.session.query(OutboxMail).count() == 1  # no copy


def test_old_mail_is_forgotten_and_waiting_mail_stays(session, outbox_app):
    put(session, mail(1), mail(2), mail(3), now=NOW - timedelta(days=40))
    put(session, mail(4), now=NOW - timedelta(days=10))
    recorder = Recorder()
    deliver_due(session, recorder, Clock(), RETRY)  # all four sent
    put(session, mail(5), now=NOW - timedelta(days=40))  # still waiting
    with outbox_app.app_context():
        outbox_app.config["CLOCK"] = lambda: NOW
        _run, outcome = outbox_app.extensions["jobs"].run_by_hand("mail.prune")
    assert outcome.summary == "3 mail(s) forgotten"
    assert sorted(r.subject for r in rows(session)) == ["Mail 4", "Mail 5"]
