"""A ticket's clocks, as the engine tells them from its targets and its pause history.

:func:`sync` is the one writer of a target's stored ``due_at`` and ``warn_at``
and of the ticket's ``next_due_at``: every event that can move them (a pause
that starts or ends, a target met or reopened, a plan change) calls it in its
transaction, so the stored times are the engine's answer while the ticket runs
and the sweep and the queue can trust them without asking the engine again.
"""

from __future__ import annotations

from datetime import datetime

from portal.models import PAUSING_STATUSES, Ticket, TicketTarget
from portal.plans import Catalog
from portal.plans.sla import Clock, Pause, ticket_clock

# The share of a target's time after which the assignee is warned.
WARNING_SHARE = 0.8


def pauses_of(ticket: Ticket) -> tuple[Pause, ...]:
    return tuple(Pause(pause.started_at, pause.ended_at) for pause in ticket.pauses)


def clock_of(
    catalog: Catalog, ticket: Ticket, target: TicketTarget, now: datetime, pauses=None
) -> Clock:
    """The engine's clock of one of ``ticket``'s targets at ``now``."""
    return ticket_clock(
        catalog,
        ticket.plan,
        target.target,
        target.started_at,
        pauses_of(ticket) if pauses is None else pauses,
        target.met_at,
        now,
        warn_share=WARNING_SHARE,
    )


def clocks(catalog: Catalog, ticket: Ticket, now: datetime) -> list[tuple[TicketTarget, Clock]]:
    """Each target of ``ticket`` with its clock at ``now``, in the plan's order."""
    pauses = pauses_of(ticket)
    return [(target, clock_of(catalog, ticket, target, now, pauses)) for target in ticket.targets]


def sync(catalog: Catalog, ticket: Ticket, now: datetime) -> None:
    """Write the engine's due and warning times into ``ticket``'s targets, and its nearest
    due time (None while its clocks stand still or none runs)."""
    nearest = None
    for target, clock in clocks(catalog, ticket, now):
        target.due_at, target.warn_at = clock.due, clock.warn_at
        if target.met_at is None and (nearest is None or clock.due < nearest):
            nearest = clock.due
    ticket.next_due_at = None if ticket.status in PAUSING_STATUSES else nearest
    if ticket.status == "closed":
        ticket.next_due_at = None
