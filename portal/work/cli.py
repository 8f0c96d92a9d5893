"""``flask work month-end|reports``: work's jobs, run once by hand (the same use cases the
worker runs on schedule; each is safe to run again)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.jobs.cli import run_job_by_hand
from portal.plans import PlanError
from portal.plans.worktime import parse_month
from portal.work.jobs import run_month_end

work_cli = click.Group("work", help="Work time: month-end settlement and acts, monthly reports.")


@work_cli.command("month-end")
@click.option("--month", default=None, help="The month to settle, YYYY-MM (default: last month).")
@with_appcontext
def month_end(month: str | None) -> None:
    """Settle a month's time (extra time ordered and invoiced) and issue its acts, once."""
    if month is None:
        run_job_by_hand("work.month-end")
        return
    try:
        first = parse_month(month)
        outcome = run_month_end(first)
    except PlanError as error:
        raise click.BadParameter(error.message, param_hint="--month") from None
    click.echo(outcome.summary)
    for line in outcome.lines:
        click.echo(f"  {line}")


@work_cli.command("reports")
@with_appcontext
def reports() -> None:
    """Mail last month's reports to the contracts with the report unit, once."""
    run_job_by_hand("work.reports")
