"""The outbox: every mail is a row written in the transaction of the action that causes it.

A use case puts its mail with :meth:`Outbox.put` and commits as it always
does: a rolled-back action leaves no mail, a committed one leaves its mail
``pending``. After the commit the delivery job is asked to run
(``mail.deliver``; it also runs every minute); :func:`deliver_due` sends each
due mail once it has claimed it, and marks it ``sent`` only after the server
accepted it. A worker that dies between the two leaves a claim that expires,
and the mail goes again with the same Message-ID, so mail readers drop the
copy. A server that is down delays mail with growing pauses (30 s, 1 min,
2 min … 1 h) for 24 hours before the portal gives up (``failed``); staff see
it at ``/staff/outbox`` and can send it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import has_app_context
from sqlalchemy import delete, event, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from portal.mail.services import Mail, Mailer, MailNotSent, compose, message_id
from portal.models import OutboxAttachment, OutboxMail

# Set on a session that put mail in its transaction; the commit asks for a delivery.
WAITING = "portal.mail_waiting"
ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Retry:
    """How long mail waits between attempts, and when the portal gives up on it.

    The pause doubles from ``first`` up to ``longest``; the last attempt is made
    at ``give_up_after`` from when the mail was written. A worker's claim on a
    mail it is sending lasts ``claim``.
    """

    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    claim: timedelta = timedelta(minutes=10)

    def pause(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (1, 2, …)."""
        return min(self.first * 2 ** min(max(attempts - 1, 0), 32), self.longest)


@dataclass(frozen=True)
class Outbox:
    """Puts mail from ``sender`` (``MAIL_FROM``) into the outbox table."""

    sender: str
    retry: Retry = field(default_factory=Retry)

    def put(self, session: Session, mail: Mail, now: datetime) -> OutboxMail:
        """Add ``mail`` to ``session``'s transaction, due at once; the caller commits."""
        row = OutboxMail(**self._values(mail, now))
        row.attachments = [
            OutboxAttachment(position=position, filename=name, mime_type=mime, content=content)
            for position, (name, mime, content) in enumerate(mail.attachments)
        ]
        session.add(row)
        session.info[WAITING] = True
        return row

    def put_all(self, session: Session, mails: Iterable[Mail], now: datetime) -> int:
        """Add many mails in one statement (renewal reminders); how many. A mail with
        attachments goes in with :meth:`put`, which keeps them."""
        rows = []
        kept = 0
        for mail in mails:
            if mail.attachments:
                self.put(session, mail, now)
                kept += 1
            else:
                rows.append(self._values(mail, now))
        if rows:
            # One executemany of the table's own INSERT (pipelined by psycopg): no ORM
            # bookkeeping per row.
            session.execute(insert(OutboxMail.__table__), rows)
            session.info[WAITING] = True
        return len(rows) + kept

    def _values(self, mail: Mail, now: datetime) -> dict:
        return {
            "message_id": message_id(self.sender),
            "template": mail.template,
            "sender": self.sender,
            "to_address": mail.to,
            "to_name": mail.to_name,
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
            "language": mail.language,
            "private": mail.private,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "give_up_at": now + self.retry.give_up_after,
        }


def mail_of(row: OutboxMail) -> Mail:
    """The mail a row holds, as it was put."""
    return Mail(
        to=row.to_address,
        to_name=row.to_name,
        subject=row.subject,
        text=row.text,
        html=row.html,
        language=row.language,
        attachments=tuple((a.filename, a.mime_type, a.content) for a in row.attachments),
        template=row.template,
        private=row.private,
    )


@dataclass
class Delivery:
    """What a delivery run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def summary(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} given up"


def deliver_due(
    session: Session,
    mailer: Mailer,
    clock: Callable[[], datetime],
    retry: Retry,
    batch: int = 20,
) -> Delivery:
    """Send every mail that is due, a claimed batch at a time, until none is left.

    Each mail is committed ``sent`` right after the server took it. A refusal
    that no retry changes fails the mail; any other failure sets its next
    attempt. When the server cannot be reached (or goes away), the rest of the
    batch waits for the same next attempt and the run ends. A claim lasts as
    long as the whole batch may take at the mailer's timeout, twice over, so that
    no other worker takes a mail this one is still going to send.
    """
    report = Delivery()
    claim = max(retry.claim, timedelta(seconds=2 * batch * mailer.timeout))
    while True:
        claimed = _claim(session, clock(), claim, batch)
        if not claimed:
            return report
        if not _send(session, mailer, claimed, clock, retry, report):
            return report


def _claim(session: Session, now: datetime, claim: timedelta, limit: int) -> list[OutboxMail]:
    """Claim up to ``limit`` due mails for this worker and commit the claim.

    One UPDATE takes them, so two workers never hold the same mail; on
    PostgreSQL the second skips the rows the first is claiming. The candidates
    are a materialized CTE, chosen once: as a plain ``IN (subquery)`` PostgreSQL
    may run the subquery again for each row, and each run, skipping the rows
    the last one locked, would claim ``limit`` more.
    """
    due = (
        OutboxMail.status == "pending",
        OutboxMail.next_attempt_at <= now,
        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
    )
    candidates = (
        select(OutboxMail.id)
        .where(*due)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due_mail")
        .prefix_with("MATERIALIZED")
    )
    ids = session.scalars(
        update(OutboxMail)
        .where(OutboxMail.id.in_(select(candidates.c.id)), *due)
        .values(claimed_until=now + claim)
        .returning(OutboxMail.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    if not ids:
        return []
    return list(
        session.scalars(
            select(OutboxMail)
            .where(OutboxMail.id.in_(ids))
            .options(selectinload(OutboxMail.attachments))
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        )
    )


def _send(
    session: Session,
    mailer: Mailer,
    claimed: list[OutboxMail],
    clock: Callable[[], datetime],
    retry: Retry,
    report: Delivery,
) -> bool:
    """Send the claimed mails over one connection; False once the server is lost."""
    try:
        with mailer.connection() as send:
            for position, row in enumerate(claimed):
                try:
                    send(_message(row))
                except Exception as failure:  # one mail's fault never holds the batch
                    error = (
                        failure
                        if isinstance(failure, MailNotSent)
                        else MailNotSent(f"the mail did not go: {failure!r}", permanent=True)
                    )
                    _not_sent(row, error, clock(), retry, report)
                    if error.server_lost:
                        for waiting in claimed[position + 1 :]:
                            _not_sent(waiting, error, clock(), retry, report)
                        session.commit()
                        return False
                else:
                    row.status = "sent"
                    row.sent_at = clock()
                    row.attempts += 1
                    row.claimed_until = None
                    if row.private and not mailer.keeps_copy:
                        # Its link is its reader's now: no copy stays for anyone else.
                        row.text, row.html = "", None
                    report.sent += 1
                session.commit()
    except MailNotSent as error:
        # The server could not be reached at all: each claimed mail waits for its next attempt.
        for row in claimed:
            if row.status == "pending" and row.claimed_until is not None:
                _not_sent(row, error, clock(), retry, report)
        session.commit()
        return False
    return True


def _message(row: OutboxMail):
    """The message of ``row``, the same at every attempt; a mail that cannot be composed
    fails for good rather than coming back after every claim."""
    try:
        return compose(mail_of(row), row.sender, row.created_at, row.message_id)
    except MailNotSent:
        raise
    except Exception as error:  # a value no message can carry: say which, never loop on it
        raise MailNotSent(f"the message cannot be composed: {error}", permanent=True) from error


def _not_sent(
    row: OutboxMail, error: MailNotSent, now: datetime, retry: Retry, report: Delivery
) -> None:
    row.attempts += 1
    row.last_error = str(error)[:ERROR_LENGTH]
    row.claimed_until = None
    if error.permanent or now >= row.give_up_at:
        row.status = "failed"
        report.failed += 1
    else:
        row.next_attempt_at = min(now + retry.pause(row.attempts), row.give_up_at)
        report.retrying += 1


class NotKept(ValueError):
    """A sent mail whose text is not kept (its link was its reader's): it cannot go again."""


def kept(row: OutboxMail) -> bool:
    """Whether the outbox still has the mail's text (a private mail's goes once sent)."""
    return not (row.private and row.status == "sent" and not row.text)


def send_again(session: Session, mail_id: int, now: datetime, retry: Retry) -> OutboxMail | None:
    """Staff send a mail again now, and commit; None for no such mail.

    A mail not yet sent (waiting or given up) is tried at once, with 24 hours of
    retries from now. A mail already sent goes as a new copy with a Message-ID
    of its own, so the reader's mail program shows it rather than dropping it;
    raises :class:`NotKept` for a sent mail whose text went with it (a sign-in
    link: its reader asks for a new one). A mail a worker is sending at this
    moment is left to it.
    """
    row = session.get(OutboxMail, mail_id)
    if row is None:
        return None
    if not kept(row):
        raise NotKept(mail_id)
    if row.status == "sent":
        copy = Outbox(row.sender, retry).put(session, mail_of(row), now)
        session.commit()
        return copy
    session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.id == mail_id,
            OutboxMail.status != "sent",
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
        )
        .values(
            status="pending",
            next_attempt_at=now,
            give_up_at=now + retry.give_up_after,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.info[WAITING] = True
    session.commit()
    session.refresh(row)
    return row


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    """Mail was committed: ask the delivery job to run (it runs every minute anyway)."""
    if session.info.pop(WAITING, False) and has_app_context():
        from portal import jobs

        jobs.enqueue("mail.deliver")


@event.listens_for(Session, "after_rollback")
def _nothing_to_deliver(session: Session) -> None:
    session.info.pop(WAITING, None)


# --- the staff outbox ----------------------------------------------------------------------

# The list's filters: every mail, then by state; the first is the default.
LIST_STATES = ("all", "pending", "failed", "sent")


def listed(status: str, search: str):
    """The outbox as staff list it, newest first: mail in ``status`` (or all) whose
    recipient or subject holds every word of ``search``."""
    from portal.listing import matching

    query = select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    if status != "all":
        query = query.where(OutboxMail.status == status)
    found = matching(search, OutboxMail.to_address, OutboxMail.to_name, OutboxMail.subject)
    return query.where(found) if found is not None else query


def counts(session: Session) -> dict[str, int]:
    """How many mails are in each state, and in all: one query."""
    numbers = dict(
        session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all()
    )
    return {"all": sum(numbers.values()), **{s: numbers.get(s, 0) for s in LIST_STATES[1:]}}


def prune(session: Session, now: datetime, keep: timedelta, batch: int = 5000) -> int:
    """Forget mail sent more than ``keep`` ago, and mail given up more than three times
    that, a batch at a time, committing each; how many. Waiting mail stays."""
    forgotten = 0
    old = or_(
        (OutboxMail.status == "sent") & (OutboxMail.created_at < now - keep),
        (OutboxMail.status == "failed") & (OutboxMail.created_at < now - 3 * keep),
    )
    while True:
        ids = session.scalars(select(OutboxMail.id).where(old).limit(batch)).all()
        if not ids:
            return forgotten
        # Attachments first: SQLite enforces no ON DELETE CASCADE unless told to.
        session.execute(delete(OutboxAttachment).where(OutboxAttachment.mail_id.in_(ids)))
        session.execute(delete(OutboxMail).where(OutboxMail.id.in_(ids)))
        session.commit()
        forgotten += len(ids)
