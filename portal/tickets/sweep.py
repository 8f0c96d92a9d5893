"""The SLA sweep: a warning at 80% of a target's time, a breach when it falls due, each once.

The stored ``warn_at`` and ``due_at`` of a running ticket's targets are the
engine's answer (:mod:`portal.tickets.clocks` writes them at every event that
moves them), so the sweep needs no clock arithmetic: it finds the targets whose
time has come through two partial indexes, claims them with an ``UPDATE ...
WHERE warned_at IS NULL`` (two workers at once: each target goes to one), and
writes the mails of what it claimed to the outbox in the same transaction. A
paused or resolved ticket's targets wait; run twice, the sweep sends nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from portal.models import Ticket, TicketTarget

RUNNING = ("new", "in_progress")
BATCH = 1000


@dataclass(frozen=True)
class Alarm:
    """A warning (``warning``) or a breach (``breach``) announced for one target."""

    kind: str
    ticket_id: int
    target: str
    due_at: datetime


# Given the kind and the claimed targets (each with its ticket, organization and
# assignee loaded), the mails to write.
AlarmMails = Callable[[str, list[TicketTarget]], Iterable]


def sweep(
    session: Session, now: datetime, outbox, mails: AlarmMails, batch: int = BATCH
) -> list[Alarm]:
    """Announce every breach and warning due at ``now``; commit each batch; what it did.

    A target past due is announced as breached and never warned late.
    """
    done: list[Alarm] = []
    for kind, when, mark in (
        ("breach", TicketTarget.due_at, TicketTarget.breached_at),
        ("warning", TicketTarget.warn_at, TicketTarget.warned_at),
    ):
        while True:
            candidates = list(
                session.scalars(
                    select(TicketTarget.id)
                    .join(Ticket, Ticket.id == TicketTarget.ticket_id)
                    .where(
                        TicketTarget.met_at.is_(None),
                        mark.is_(None),
                        when <= now,
                        Ticket.status.in_(RUNNING),
                    )
                    .order_by(when, TicketTarget.id)
                    .limit(batch)
                )
            )
            if not candidates:
                break
            values = {mark.key: now}
            if kind == "breach":
                values["warned_at"] = func.coalesce(TicketTarget.warned_at, now)
            claimed = list(
                session.scalars(
                    update(TicketTarget)
                    .where(TicketTarget.id.in_(candidates), mark.is_(None))
                    .values(**values)
                    .returning(TicketTarget.id)
                )
            )
            if claimed:
                done += _announce(session, kind, claimed, now, outbox, mails)
            session.commit()
            if len(candidates) < batch:
                break
    return done


def _announce(session, kind, claimed, now, outbox, mails) -> list[Alarm]:
    targets = list(
        session.scalars(
            select(TicketTarget)
            .where(TicketTarget.id.in_(claimed))
            .options(
                joinedload(TicketTarget.ticket).options(
                    joinedload(Ticket.organization), joinedload(Ticket.assignee)
                ),
            )
            .order_by(TicketTarget.id)
        )
    )
    if kind == "breach":
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_({t.ticket_id for t in targets}), Ticket.breached_at.is_(None))
            .values(breached_at=now)
        )
    outbox.put_all(session, mails(kind, targets), now)
    return [Alarm(kind, t.ticket_id, t.target, t.due_at) for t in targets]
