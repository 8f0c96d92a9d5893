"""``flask sla sweep`` and ``flask sla close-resolved``: one run of the tickets' jobs, by hand
(commands of ``flask sla``, which alone computes a due time)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.tickets.jobs import run_close_resolved, run_sweep


def _print(outcome) -> None:
    click.echo(outcome.summary)
    for line in outcome.lines:
        click.echo(f"  {line}")


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Warn at 80% of a target's time and announce breaches, each once (mail to the outbox)."""
    _print(run_sweep())


@click.command("close-resolved")
@with_appcontext
def close_resolved_command() -> None:
    """Close the tickets resolved TICKET_AUTO_CLOSE_DAYS ago without a reply."""
    _print(run_close_resolved())
