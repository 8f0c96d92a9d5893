"""Jobs: once per period however many workers run, recorded, listed, and missed runs noticed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs import JOBS, Job, Outcome, Schedule
from portal.jobs.services import JobFailed, run_by_hand, run_for_period, status
from portal.mail.services import Mail
from portal.models import JobRun, OutboxMail

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Counting:
    """A job body that counts its runs."""

    def __init__(self, fails: bool = False) -> None:
        self.runs = 0
        self.fails = fails

    def __call__(self) -> Outcome:
        self.runs += 1
        if self.fails:
            raise RuntimeError("the mail server said no")
        return Outcome(f"run {self.runs}", ("a line",))


HOURLY = Schedule.hourly(5)


def counted(body: Counting) -> Job:
    return Job("test.counted", body, HOURLY)


def test_a_period_runs_once_when_two_workers_schedule_it(session):
    body = Counting()
    job = counted(body)
    first = run_for_period(session, job, lambda: NOW, "worker-a")
    second = run_for_period(session, job, lambda: NOW + timedelta(seconds=20), "worker-b")
    assert second is None
    assert body.runs == 1
    assert (first.slot, first.outcome, first.detail, first.worker) == (
        "2026-11-22T08:05Z",
        "ok",
        "run 1",
        "worker-a",
    )
    # The next period runs again.
    assert run_for_period(session, job, lambda: NOW + timedelta(hours=1), "worker-b") is not None
    assert body.runs == 2


def test_a_failed_run_is_recorded_with_its_error_and_the_next_period_runs(session):
    body = Counting(fails=True)
    job = counted(body)
    run = run_for_period(session, job, lambda: NOW, "worker-a")
    assert run.outcome == "failed"
    assert run.detail == "RuntimeError: the mail server said no"
    assert run.finished_at == NOW


def test_a_run_by_hand_runs_whatever_ran_before_and_raises_its_failure(session):
    body = Counting()
    job = counted(body)
    run_for_period(session, job, lambda: NOW, "worker")
    run, outcome = run_by_hand(session, job, lambda: NOW, "cli")
    assert (body.runs, outcome.lines, run.slot.startswith("by hand 2026-11-22T09:00:00Z")) == (
        2,
        ("a line",),
        True,
    )
    with pytest.raises(JobFailed, match="the mail server said no"):
        run_by_hand(session, counted(Counting(fails=True)), lambda: NOW, "cli")


def test_runs_older_than_a_week_are_forgotten(session):
    job = counted(Counting())
    for days in (10, 8, 1):
        run_for_period(session, job, lambda d=days: NOW - timedelta(days=d), "worker")
    run_for_period(session, job, lambda: NOW, "worker")
    kept = session.scalars(select(JobRun.started_at).order_by(JobRun.started_at)).all()
    assert kept == [NOW - timedelta(days=1), NOW]


@pytest.mark.parametrize(
    ("last_run", "late"),
    [
        pytest.param(None, True, id="a job that never ran is late"),
        pytest.param(timedelta(minutes=50), False, id="an hourly job that ran 50 minutes ago"),
        pytest.param(timedelta(minutes=119), False, id="an hourly job at 1 h 59 min"),
        pytest.param(timedelta(minutes=121), True, id="an hourly job not run for twice its period"),
    ],
)
def test_a_periodic_job_is_late_after_twice_its_period(session, last_run, late):
    job = counted(Counting())
    if last_run is not None:
        run_for_period(session, job, lambda: NOW - last_run, "worker")
    (entry,) = status(session, [job], NOW)
    assert entry.late is late
    assert entry.next_run == datetime(2026, 11, 22, 9, 5, tzinfo=UTC)


# --- the staff banner ----------------------------------------------------------------------


def ran(app, moment: datetime, names=None) -> None:
    """Every periodic job (or those named) ran at ``moment``."""
    with app.app_context():
        for job in JOBS.values():
            if job.schedule is not None and (names is None or job.name in names):
                db.session.add(
                    JobRun(
                        job=job.name,
                        slot=f"{moment}",
                        started_at=moment,
                        finished_at=moment,
                        outcome="ok",
                        detail="ok",
                    )
                )
        db.session.commit()


def test_staff_are_warned_on_every_page_when_a_periodic_job_is_late(client, staff, app):
    ran(app, NOW - timedelta(minutes=1))
    ran(app, NOW - timedelta(days=3), names={"billing.remind"})
    with app.app_context():
        db.session.query(JobRun).filter(
            JobRun.job == "billing.remind", JobRun.started_at > NOW - timedelta(days=1)
        ).delete()
        db.session.commit()
    for path in ("/staff/callbacks", "/staff/invoices", "/plans"):
        html = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert 'id="jobs-late"' in html
        assert "Renewal reminders: last run 19 November 2026, 11:00." in html
        assert "Mail delivery" not in html  # on time


def test_a_periodic_job_that_keeps_failing_is_late_though_it_runs(session):
    healthy, failing = counted(Counting()), counted(Counting(fails=True))
    run_for_period(session, healthy, lambda: NOW - timedelta(hours=3), "worker")
    for hours in (2, 1, 0):
        run_for_period(session, failing, lambda h=hours: NOW - timedelta(hours=h), "worker")
    (entry,) = status(session, [failing], NOW)
    assert (entry.late, entry.last.outcome, entry.last_ok_at) == (
        True,
        "failed",
        NOW - timedelta(hours=3),
    )


def test_staff_see_the_error_of_a_job_that_keeps_failing(client, staff, app):
    ran(app, NOW - timedelta(minutes=1))
    with app.app_context():
        db.session.query(JobRun).filter(JobRun.job == "mail.deliver").delete()
        db.session.add(
            JobRun(
                job="mail.deliver",
                slot="failing",
                started_at=NOW - timedelta(minutes=2),
                finished_at=NOW - timedelta(minutes=2),
                outcome="failed",
                detail="OperationalError: the database is not answering",
            )
        )
        db.session.commit()
    html = client.get("/staff/callbacks?lang=en").get_data(as_text=True)
    assert (
        "Mail delivery: the last run failed (22 November 2026, 10:58): "
        "OperationalError: the database is not answering" in html
    )


def test_no_warning_while_every_job_runs_on_time(client, staff, app):
    ran(app, NOW - timedelta(minutes=1))
    assert 'id="jobs-late"' not in client.get("/staff/callbacks?lang=en").get_data(as_text=True)


def test_a_job_that_never_ran_is_named(client, staff):
    html = client.get("/staff/callbacks?lang=en").get_data(as_text=True)
    assert "Mail delivery: never run." in html


def test_clients_never_see_the_warning(client, make_organization, forms):
    org = make_organization("Acme", "owner@acme.example", language="en")
    forms.sign_in(org.owner.email)
    assert 'id="jobs-late"' not in client.get("/account?lang=en").get_data(as_text=True)
    assert 'id="jobs-late"' not in client.get("/plans?lang=en").get_data(as_text=True)


# --- the command line ----------------------------------------------------------------------


def test_jobs_status_lists_each_periodic_job_with_its_last_run(app, runner):
    ran(app, NOW - timedelta(minutes=1), names={"mail.deliver"})
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    (mail_line,) = [line for line in lines if line.startswith("mail.deliver")]
    assert (
        "every minute" in mail_line and "2026-11-22 08:59:00" in mail_line and " ok " in mail_line
    )
    (remind_line,) = [line for line in lines if line.startswith("billing.remind")]
    assert "LATE" in remind_line and "daily at 06:00 UTC" in remind_line and "never" in remind_line
    assert "Is a worker running?" in result.output


def test_jobs_run_runs_one_job_by_hand_and_records_it(app, runner):
    result = runner.invoke(args=["jobs", "run", "billing.expire-invoices"])
    assert result.exit_code == 0, result.output
    assert "0 invoice(s) expired" in result.output
    with app.app_context():
        (run,) = db.session.scalars(select(JobRun)).all()
        assert (run.job, run.outcome, run.detail) == (
            "billing.expire-invoices",
            "ok",
            "0 invoice(s) expired",
        )


def test_an_unknown_job_is_refused_with_the_names_of_the_jobs(runner):
    result = runner.invoke(args=["jobs", "run", "billing.nothing"])
    assert result.exit_code != 0
    assert "billing.remind" in result.output


def test_the_worker_will_not_start_while_jobs_run_where_they_are_asked_for(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "JOBS_IMMEDIATE" in result.output


# --- real consumers --------------------------------------------------------------------------


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def queued_app(make_app, tmp_path, outbox):
    """Apps on one database and one SQLite queue, with real consumers (as two workers)."""
    started = []

    def make():
        app = make_app(
            JOBS_IMMEDIATE=False,
            JOBS_SQLITE=str(tmp_path / "jobs.sqlite3"),
            OUTBOX_DIR=str(outbox),
            CLOCK=lambda: datetime.now(UTC),
        )
        started.append(app.extensions["jobs"])
        return app

    yield make
    for runner in started:
        runner.stop_in_process()


def test_two_workers_starting_together_run_each_period_once(queued_app):
    first, second = queued_app(), queued_app()
    assert first.extensions["jobs"].start_in_process()
    assert second.extensions["jobs"].start_in_process()
    assert not first.extensions["jobs"].start_in_process()  # once per process
    periodic = {job.name for job in JOBS.values() if job.schedule is not None}

    def all_ran() -> bool:
        with first.app_context():
            done = db.session.scalars(select(JobRun.job).where(JobRun.outcome != "running")).all()
            return set(done) == periodic

    wait_for(all_ran)
    time.sleep(0.5)  # the second worker's turn, which must find each period taken
    with first.app_context():
        counts = dict(
            db.session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
        )
        assert counts == dict.fromkeys(periodic, 1)
        outcomes = set(db.session.scalars(select(JobRun.outcome)))
        assert outcomes == {"ok"}


def test_the_embedded_default_delivers_mail_from_the_serving_process(queued_app, outbox: Path):
    app = queued_app()
    app.extensions["jobs"].start_in_process()
    with app.app_context():
        app.extensions["outbox"].put(
            db.session, Mail(to="a@example.com", subject="Hi", text="x\n"), datetime.now(UTC)
        )
        db.session.commit()
    wait_for(lambda: outbox.is_dir() and len(list(outbox.glob("*.eml"))) == 1)
    with app.app_context():
        wait_for(lambda: db.session.scalar(select(OutboxMail.status)) == "sent")


def test_two_reminder_runs_at_once_write_each_reminder_and_its_mail_once(make_app, outbox):
    import threading

    from portal.catalog.current import current_catalog
    from portal.models import RenewalReminder
    from tests.seed import periods_ending_soon

    app = make_app(OUTBOX_DIR=str(outbox), JOBS_IMMEDIATE=False)
    with app.app_context():
        current_catalog()
        periods_ending_soon(db.session, 300, NOW.date())
    start = threading.Barrier(2)
    outcomes = []

    def run() -> None:
        with app.app_context():
            start.wait()
            _run, outcome = app.extensions["jobs"].run_by_hand("billing.remind")
            outcomes.append(outcome.summary)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RenewalReminder)) == 300
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 300
    sent = sorted(int(summary.split()[0]) for summary in outcomes)
    assert sum(sent) == 300, outcomes


@pytest.mark.parametrize(
    ("command", "reload", "child", "serves"),
    [
        pytest.param("run", False, False, True, id="flask run serves from its own process"),
        pytest.param("run", True, False, False, id="the reloader's watcher does not"),
        pytest.param("run", True, True, True, id="the reloader's child does"),
        pytest.param("worker", None, False, False, id="other commands do not serve"),
    ],
)
def test_the_jobs_start_in_the_process_flask_run_serves_from(
    app, monkeypatch, command, reload, child, serves
):
    import click

    from portal.jobs import _served_by_flask_run

    if child:  # werkzeug's reloader marks the process it serves from
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    else:
        monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    with click.Context(click.Command(command), info_name=command) as context:
        context.params = {"reload": reload}
        assert _served_by_flask_run(app) is serves
