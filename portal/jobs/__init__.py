"""Work outside requests, on Huey: periodic jobs and jobs asked for by a use case.

Features declare their jobs in ``portal/<feature>/jobs.py`` with :func:`job`:
a few lines calling an idempotent service, whose own tables decide whether
there is work. ``create_app`` binds them to a Huey instance
(:class:`JobRunner`, ``app.extensions["jobs"]``): Redis storage when
``REDIS_URL`` is set, else an SQLite file under ``instance/``, so the embedded
default needs no other service. ``flask --app app worker`` runs the consumer;
with ``JOBS_IN_PROCESS`` (the default without Redis) the serving process runs
one itself, so the README's first command serves everything.

A periodic run is recorded in ``job_runs`` under the period it stands for
(:mod:`portal.jobs.services`), so a period runs once however many workers
schedule it, and a worker that starts makes good a period that was missed.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import redis
from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer

from portal.config import REDIS_TIMEOUT_SECONDS
from portal.jobs.schedule import Schedule
from portal.jobs.services import Job, Outcome, run_by_hand, run_for_period

__all__ = ["JOBS", "Job", "JobRunner", "Outcome", "Schedule", "enqueue", "job"]

log = logging.getLogger(__name__)
# Every job of the portal by name, as the features' jobs modules declare them.
JOBS: dict[str, Job] = {}
# Mail waits at most about this long for a worker that polls an SQLite queue.
POLL_SECONDS = 1.0


def job(name: str, *, label, schedule: Schedule | None = None, on_demand: bool = False):
    """Declare the decorated function (no arguments, returns an :class:`Outcome`) a job;
    ``label`` names it for staff (a lazy translation)."""

    def declare(run: Callable[[], Outcome]) -> Callable[[], Outcome]:
        if name in JOBS:
            raise ValueError(f"job {name} is declared twice")
        JOBS[name] = Job(name, run, schedule, on_demand, label)
        return run

    return declare


def enqueue(name: str) -> None:
    """Ask for a run of job ``name`` as soon as a worker is free (in tests: now, here)."""
    current_app.extensions["jobs"].enqueue(name)


def late_jobs() -> list:
    """The periodic jobs that have not run for twice their period (for the staff banner)."""
    from portal.clock import now
    from portal.extensions import db
    from portal.jobs.services import status

    return [entry for entry in status(db.session, list(JOBS.values()), now()) if entry.late]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_huey(config) -> Huey:
    """Redis when ``REDIS_URL`` is set, else the SQLite file ``JOBS_SQLITE``; ``JOBS_IMMEDIATE``
    (tests) runs each job where it is asked for, in memory."""
    name = config["JOBS_QUEUE"]
    immediate = bool(config.get("JOBS_IMMEDIATE"))
    if config.get("REDIS_URL"):
        # Timeouts, so that a Redis that stops answering fails a request or a worker's
        # poll (which then retries) instead of hanging it; longer than the consumer's
        # one-second blocking read.
        pool = redis.ConnectionPool.from_url(
            config["REDIS_URL"],
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        return RedisHuey(name, connection_pool=pool, results=False, immediate=immediate)
    path = Path(config["JOBS_SQLITE"])
    if not immediate:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False, immediate=immediate)


class _InProcessConsumer(Consumer):
    """A consumer inside the serving process: its threads, not the process's signals."""

    def _set_signal_handlers(self) -> None:
        pass


class JobRunner:
    """The portal's jobs bound to one application and one Huey queue."""

    def __init__(self, app: Flask, huey: Huey) -> None:
        self.app = app
        self.huey = huey
        self._periodic: dict[str, TaskWrapper] = {}
        self._on_demand: dict[str, TaskWrapper] = {}
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()
        for definition in JOBS.values():
            task_name = definition.name.replace(".", "_").replace("-", "_")
            if definition.schedule is not None:
                self._periodic[definition.name] = huey.periodic_task(
                    definition.schedule.matches, name=task_name
                )(self._periodic_body(definition.name))
            if definition.on_demand:
                self._on_demand[definition.name] = huey.task(name=f"{task_name}_now")(
                    self._on_demand_body(definition.name)
                )

    @property
    def jobs(self) -> list[Job]:
        return list(JOBS.values())

    def _periodic_body(self, name: str) -> Callable[[], None]:
        def body() -> None:
            from portal.clock import now
            from portal.extensions import db

            with self.app.app_context():
                run_for_period(db.session, JOBS[name], now, worker_name())

        return body

    def _on_demand_body(self, name: str) -> Callable[[], None]:
        def body() -> None:
            with self.app.app_context():
                try:
                    JOBS[name].run()
                except Exception:
                    # The periodic run of the same job makes good what this one could not.
                    log.exception("job %s failed", name)

        return body

    def enqueue(self, name: str) -> None:
        try:
            self._on_demand[name]()
        except Exception:
            # The queue is down: the job's periodic run does the work a little later.
            log.exception("job %s could not be queued", name)

    def run_by_hand(self, name: str) -> tuple:
        """Run job ``name`` here and now, recorded; raises ``JobFailed``."""
        from portal.clock import now
        from portal.extensions import db

        return run_by_hand(db.session, JOBS[name], now, f"{worker_name()} by hand")

    def catch_up(self) -> None:
        """Queue each periodic job once: a period missed while no worker ran is made good,
        and one that has run is not run again (its row decides)."""
        for task in self._periodic.values():
            task()

    def consumer(self, workers: int = 2, in_process: bool = False) -> Consumer:
        kind = _InProcessConsumer if in_process else Consumer
        return kind(
            self.huey,
            workers=workers,
            worker_type="thread",
            periodic=True,
            max_delay=POLL_SECONDS,
            # systemd and gunicorn stop with SIGTERM: finish the job at hand first.
            graceful_signal="TERM",
            shutdown_timeout=30,
        )

    def start_in_process(self) -> bool:
        """Start a consumer in this process's threads, once; False if it runs already or
        jobs run where they are asked for (tests)."""
        with self._lock:
            if self._consumer is not None or self.huey.immediate:
                return False
            self._consumer = self.consumer(in_process=True)
            self._consumer.start()
        self.catch_up()
        atexit.register(self.stop_in_process)
        return True

    def stop_in_process(self) -> None:
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop(graceful=True)


def init_app(app: Flask) -> JobRunner:
    """Bind every declared job to the application's queue; start it in this process when
    ``JOBS_IN_PROCESS`` is set and ``flask run`` serves (gunicorn starts it per worker)."""
    # The features' jobs declare themselves on import.
    from portal.billing import jobs as _billing_jobs  # noqa: F401
    from portal.mail import jobs as _mail_jobs  # noqa: F401
    from portal.tickets import jobs as _ticket_jobs  # noqa: F401
    from portal.work import jobs as _work_jobs  # noqa: F401

    runner = JobRunner(app, build_huey(app.config))
    app.extensions["jobs"] = runner
    if app.config.get("JOBS_IN_PROCESS") and _served_by_flask_run(app):
        runner.start_in_process()
    return runner


def _served_by_flask_run(app: Flask) -> bool:
    """Whether this process is the one ``flask run`` serves from (not its reloader's watcher)."""
    import click
    from werkzeug.serving import is_running_from_reloader

    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run":
        return False
    reload = context.params.get("reload")
    if reload is None:
        reload = app.debug
    return not reload or is_running_from_reloader()
