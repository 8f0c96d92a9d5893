"""``flask worker`` runs the jobs; ``flask jobs status|run`` tells about them and runs one."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.clock import now
from portal.extensions import db
from portal.jobs import JOBS, services


@click.command("worker")
@click.option(
    "--threads", default=2, show_default=True, type=click.IntRange(1, 32), help="Jobs at once."
)
@with_appcontext
def worker_command(threads: int) -> None:
    """Run the jobs: mail delivery, reminders, invoices, Stripe reconciliation.

    Stops on SIGTERM or Ctrl-C after the jobs at hand. Periodic jobs whose period
    passed while no worker ran are run at start, once.
    """
    runner = current_app.extensions["jobs"]
    if runner.huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run where they are asked for")
    consumer = runner.consumer(workers=threads)
    click.echo(f"worker: {threads} thread(s) on {_queue(current_app.config)}")
    runner.catch_up()
    consumer.run()


jobs_cli = click.Group("jobs", help="What the background jobs did; run one by hand.")


@jobs_cli.command("status")
@with_appcontext
def status() -> None:
    """Each periodic job: when it runs, its last run and outcome; late ones are marked."""
    runner = current_app.extensions["jobs"]
    moment = now()
    entries = services.status(db.session, runner.jobs, moment)
    rows = [("job", "runs", "last run (UTC)", "outcome", "detail")]
    for entry in entries:
        last = entry.last
        rows.append(
            (
                entry.job.name + (" LATE" if entry.late else ""),
                entry.job.schedule.words(),
                f"{last.started_at:%Y-%m-%d %H:%M:%S}" if last else "never",
                last.outcome if last else "-",
                (last.detail or "") if last else "",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        click.echo("  ".join([*cells, row[4]]).rstrip())
    click.echo(
        f"queue {_queue(current_app.config)}: {runner.huey.pending_count()} waiting, "
        f"{runner.huey.scheduled_count()} scheduled"
    )
    if any(entry.late for entry in entries):
        click.echo("LATE: not run for twice its period. Is a worker running? (flask worker)")


@jobs_cli.command("run")
@click.argument("name")
@with_appcontext
def run(name: str) -> None:
    """Run job NAME here and now (as the worker would), and record the run."""
    if name not in JOBS:
        raise click.BadParameter(f"{name!r}: the jobs are {', '.join(sorted(JOBS))}")
    run_job_by_hand(name)


def run_job_by_hand(name: str) -> None:
    """Run a job here, print what it did; a failure exits non-zero with the error."""
    try:
        _run, outcome = current_app.extensions["jobs"].run_by_hand(name)
    except services.JobFailed as failed:
        raise click.ClickException(f"{name} failed: {failed.run.detail}") from None
    for line in outcome.lines:
        click.echo(line)
    click.echo(outcome.summary)


def _queue(config) -> str:
    if config.get("REDIS_URL"):
        return f"Redis, queue {config['JOBS_QUEUE']}"
    return f"SQLite {config['JOBS_SQLITE']}"
