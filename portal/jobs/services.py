"""Runs of jobs, recorded in ``job_runs``: once per period however many workers schedule them.

A periodic run first inserts its row for the period (``job``, ``slot``
unique) and commits; a second worker that schedules the same job for the same
period fails that insert and does nothing. A run asked for by hand (``flask
jobs run``, ``flask billing remind``) gets a slot of its own. Each row ends
``ok`` with what the job did, or ``failed`` with the error.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.jobs.schedule import Schedule
from portal.models import JobRun

log = logging.getLogger(__name__)
# Runs are kept this long: enough to read what happened over a week.
KEPT = timedelta(days=7)
DETAIL_LENGTH = 2000


@dataclass(frozen=True)
class Outcome:
    """What a job did: a summary for ``job_runs`` and lines for the command line."""

    summary: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    """A unit of work outside requests, run in an application context.

    ``schedule`` makes it periodic; ``on_demand`` lets use cases ask for a run
    at once as well (mail delivery after a commit), unrecorded.
    """

    name: str
    run: Callable[[], Outcome]
    schedule: Schedule | None = None
    on_demand: bool = False
    # What staff read, in their language (a lazy string): "Renewal reminders".
    label: object = None


class JobFailed(RuntimeError):
    """A run ended in an error; the run is recorded ``failed`` with it."""

    def __init__(self, run: JobRun, error: BaseException) -> None:
        super().__init__(run.detail)
        self.run = run
        self.error = error


def run_for_period(
    session: Session, job: Job, clock: Callable[[], datetime], worker: str
) -> JobRun | None:
    """Run ``job`` for the period the clock is in, unless a run for it exists; None then.

    An error is recorded and logged, not raised: the next period runs again.
    """
    assert job.schedule is not None, f"{job.name} is not periodic"
    started = clock()
    try:
        ran = _run(session, job, job.schedule.slot(started), started, clock, worker)
    except JobFailed as failed:
        log.error("job %s failed: %s", job.name, failed.run.detail, exc_info=failed.error)
        return failed.run
    return ran[0] if ran else None


def run_by_hand(
    session: Session, job: Job, clock: Callable[[], datetime], worker: str
) -> tuple[JobRun, Outcome]:
    """Run ``job`` now, whatever ran before, and record it; raises :class:`JobFailed`."""
    started = clock()
    slot = f"by hand {started:%Y-%m-%dT%H:%M:%SZ} {secrets.token_hex(3)}"
    ran = _run(session, job, slot, started, clock, worker)
    assert ran is not None  # a slot of its own is never taken
    return ran


def _run(
    session: Session,
    job: Job,
    slot: str,
    started: datetime,
    clock: Callable[[], datetime],
    worker: str,
) -> tuple[JobRun, Outcome] | None:
    run = JobRun(job=job.name, slot=slot, started_at=started, outcome="running", worker=worker)
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("job %s: %s ran already", job.name, slot)
        return None
    run_id = run.id
    try:
        outcome = job.run()
    except Exception as error:
        session.rollback()
        run = _finish(session, run_id, "failed", f"{type(error).__name__}: {error}", clock())
        raise JobFailed(run, error) from error
    return _finish(session, run_id, "ok", outcome.summary, clock()), outcome


def _finish(session: Session, run_id: int, outcome: str, detail: str, finished: datetime) -> JobRun:
    run = session.get(JobRun, run_id)
    run.outcome = outcome
    run.detail = detail[:DETAIL_LENGTH]
    run.finished_at = finished
    session.execute(
        delete(JobRun).where(JobRun.job == run.job, JobRun.started_at < finished - KEPT)
    )
    session.commit()
    return run


@dataclass(frozen=True)
class JobStatus:
    """A periodic job as ``flask jobs status`` and the staff banner see it."""

    job: Job
    last: JobRun | None
    # When a run of it last ended well; late when that is over twice its period ago.
    last_ok_at: datetime | None
    next_run: datetime
    late: bool


def status(session: Session, jobs: list[Job], now: datetime) -> list[JobStatus]:
    """Each periodic job with its latest run; late when no run of it has ended well for
    twice its period (it never ran, it stopped running, or every run fails). Two queries."""
    periodic = [job for job in jobs if job.schedule is not None]
    names = [job.name for job in periodic]
    latest = (
        select(JobRun.job, func.max(JobRun.started_at).label("started_at"))
        .where(JobRun.job.in_(names))
        .group_by(JobRun.job)
        .subquery()
    )
    runs = {
        run.job: run
        for run in session.scalars(
            select(JobRun)
            .join(latest, (JobRun.job == latest.c.job) & (JobRun.started_at == latest.c.started_at))
            .order_by(JobRun.id)
        )
    }
    last_ok = dict(
        session.execute(
            select(JobRun.job, func.max(JobRun.started_at))
            .where(JobRun.job.in_(names), JobRun.outcome == "ok")
            .group_by(JobRun.job)
        ).all()
    )
    return [
        JobStatus(
            job=job,
            last=runs.get(job.name),
            last_ok_at=last_ok.get(job.name),
            next_run=job.schedule.next_after(now),
            late=(job.name not in last_ok or now - last_ok[job.name] > 2 * job.schedule.period),
        )
        for job in periodic
    ]
