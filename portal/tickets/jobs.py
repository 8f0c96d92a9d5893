"""Tickets' periodic jobs: the same code as ``flask sla sweep`` and ``flask sla close-resolved``."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.clock import now
from portal.extensions import db
from portal.jobs import Outcome, Schedule, job
from portal.tickets import sweep, workflow
from portal.tickets.mails import alarm_mails


def run_sweep() -> Outcome:
    alarms = sweep.sweep(db.session, now(), current_app.extensions["outbox"], alarm_mails())
    lines = tuple(
        f"ticket {alarm.ticket_id}: {alarm.target} {alarm.kind} (due {alarm.due_at.isoformat()})"
        for alarm in alarms
    )
    breaches = sum(1 for alarm in alarms if alarm.kind == "breach")
    return Outcome(f"{len(alarms) - breaches} warning(s), {breaches} breach(es)", lines)


@job("tickets.sweep", label=_l("SLA warnings and breaches"), schedule=Schedule.every_minute())
def sla_sweep() -> Outcome:
    """Warn at 80% of a target's time and announce a breach, each once."""
    return run_sweep()


def run_close_resolved() -> Outcome:
    days = current_app.config["TICKET_AUTO_CLOSE_DAYS"]
    closed = workflow.close_resolved(db.session, now(), days)
    return Outcome(f"{len(closed)} resolved ticket(s) closed after {days} days")


@job("tickets.close-resolved", label=_l("Closing resolved tickets"), schedule=Schedule.hourly(15))
def close_resolved() -> Outcome:
    """Close tickets resolved TICKET_AUTO_CLOSE_DAYS ago without a reply from the client."""
    return run_close_resolved()
