"""Several instances: two gunicorn servers and two workers on one PostgreSQL database and one
Redis, as production runs them, started as processes from the README's commands.

A client signed in on one server is signed in on the other; the sign-in limit counts
attempts on both; each periodic job runs once per period though both workers schedule
it; a mail is delivered once; and an SMTP server stopped for a while delays mail and
loses none.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import redis

from tests.postgres import PG_URL, throwaway_schema
from tests.smtp import Inbox, free_port, smtp_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/15"
PERIODIC = {
    "mail.deliver",
    "mail.prune",
    "billing.remind",
    "billing.expire-invoices",
    "billing.reconcile",
    "billing.price-notices",
    "tickets.sweep",
    "tickets.close-resolved",
    "work.month-end",
    "work.reports",
}
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_LINK = re.compile(r"https?://\S+/confirm/\S+")


@dataclass
class Browser:
    """A person's browser: one cookie jar for every server on 127.0.0.1 (cookies know no port)."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, base: str, method: str, path: str, form: dict | None = None):
        parts = urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, response.headers, text

    def get(self, base: str, path: str):
        return self.request(base, "GET", path)

    def submit(self, base: str, page: str, action: str, data: dict):
        """GET ``page`` for its CSRF token, then POST ``data`` to ``action``."""
        _status, _headers, html = self.get(base, page)
        (token,) = _CSRF.findall(html)[:1]
        return self.request(base, "POST", action, {"csrf_token": token, **data})


@dataclass
class Cluster:
    web: list[str]
    database: str
    inbox: Inbox
    logs: Path
    processes: dict[str, subprocess.Popen]

    def query(self, sql: str, *args):
        url, schema = self.database
        with psycopg.connect(url, options=f"-csearch_path={schema}") as connection:
            return connection.execute(sql, args).fetchall()

    def worker_log(self) -> list[dict]:
        lines = []
        for name in ("worker-1", "worker-2"):
            for line in (self.logs / f"{name}.log").read_text().splitlines():
                try:
                    lines.append({"worker": name, **json.loads(line)})
                except ValueError:
                    continue
        return lines


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}", pytrace=False)
        time.sleep(0.25)


def _ready(base: str) -> bool:
    try:
        status, _headers, _text = Browser().get(base, "/readyz")
    except OSError:
        return False
    return status == 200


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("instances")
    queue = f"portal-test-{os.getpid()}-{int(time.time())}"
    connection = redis.Redis.from_url(REDIS_URL)
    # Database 15 is this module's: the counts of an earlier run within the hour (sign-ins,
    # registrations) must not refuse this one's.
    for key in connection.scan_iter("LIMITS:LIMITER/*"):
        connection.delete(key)
    smtp_port = free_port()
    with throwaway_schema("portal_instances") as settings, smtp_server(smtp_port) as inbox:
        schema = settings["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"].split("=", 1)[1]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "JOBS_"))},
            "DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{schema}",
            "REDIS_URL": REDIS_URL,
            "JOBS_QUEUE": queue,
            "SECRET_KEY": "the-same-key-on-every-instance",
            "PORTAL_CATALOG": "kbs",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "MAIL_TIMEOUT_SECONDS": "2",
            "MAIL_RETRY_SECONDS": "1",
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": "2",
            "INSTANCE_PATH": str(logs / "instance"),
        }
        subprocess.run(
            [str(BIN / "flask"), "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        processes: dict[str, subprocess.Popen] = {}
        web = []
        try:
            for number in (1, 2):
                port = free_port()
                web.append(f"http://127.0.0.1:{port}")
                processes[f"web-{number}"] = _start(
                    [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "app:app"],
                    {**env, "BIND": f"127.0.0.1:{port}"},
                    logs / f"web-{number}.log",
                )
                processes[f"worker-{number}"] = _start(
                    [str(BIN / "flask"), "--app", "app", "worker", "--threads", "2"],
                    env,
                    logs / f"worker-{number}.log",
                )
            for base in web:
                wait_for(lambda base=base: _ready(base), 60, f"{base}/readyz")
            yield Cluster(web, (PG_URL, schema), inbox, logs, processes)
        finally:
            for process in processes.values():
                process.send_signal(signal.SIGTERM)
            for name, process in processes.items():
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                print(f"--- {name} (exit {process.returncode}):")
                print("\n".join((logs / f"{name}.log").read_text().splitlines()[-15:]))
            for key in connection.scan_iter(f"*{queue}*"):
                connection.delete(key)


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    # The process writes to its own copy of the file's descriptor; ours closes at once.
    with log.open("w") as handle:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def register(browser: Browser, base: str, email: str):
    return browser.submit(
        base,
        "/register",
        "/register",
        {
            "organization": f"Org of {email}",
            "name": "Olena",
            "email": email,
            "password": PASSWORD,
            "password_again": PASSWORD,
            "language": "en",
            "timezone": "Europe/Kyiv",
            "terms": "y",
        },
    )


def mails_to(inbox: Inbox, email: str) -> list:
    return [m for m in inbox.messages() if email in str(m["To"])]


def test_a_client_signed_in_on_one_server_is_signed_in_on_the_other(cluster):
    first, second = cluster.web
    browser = Browser()
    status, headers, _text = register(browser, first, "one@acme.example")
    assert status == 303 and headers["Location"] == "/register/sent"
    (mail,) = wait_for(lambda: mails_to(cluster.inbox, "one@acme.example"), 30, "the mail")
    (link,) = _LINK.findall(mail.get_body(("plain",)).get_content())
    status, headers, _text = browser.get(second, urlsplit(link).path + "?" + urlsplit(link).query)
    assert status == 303 and headers["Location"] == "/account"
    for base in (first, second):
        status, _headers, html = browser.get(base, "/account")
        assert status == 200 and "Org of one@acme.example" in html


def test_the_sign_in_limit_counts_the_attempts_on_both_servers(cluster):
    browser = Browser()
    statuses = []
    for attempt in range(11):
        base = cluster.web[attempt % 2]  # one on each server, in turn
        status, _h, _t = browser.submit(
            base, "/login", "/login", {"email": "nobody@acme.example", "password": "guess"}
        )
        statuses.append(status)
    assert statuses == [401] * 10 + [429]


def test_each_periodic_job_runs_once_though_both_workers_schedule_it(cluster):
    def each_job_ran() -> bool:
        ran = {job for (job,) in cluster.query("SELECT job FROM job_runs WHERE outcome = 'ok'")}
        return ran >= PERIODIC

    wait_for(each_job_ran, 60, "each periodic job's first run")
    runs = cluster.query("SELECT job, slot, count(*) FROM job_runs GROUP BY job, slot")
    assert all(count == 1 for _job, _slot, count in runs)

    # Both workers queued each job when they started; for each, one ran it and the other
    # found its period taken.
    def skipped() -> set[str]:
        return {
            line["message"].split()[1].rstrip(":")
            for line in cluster.worker_log()
            if "ran already" in line.get("message", "")
        }

    wait_for(lambda: skipped() >= PERIODIC, 30, "the second worker to skip each job")
    workers = {(job, worker) for job, worker in cluster.query("SELECT job, worker FROM job_runs")}
    assert {job for job, _worker in workers} == PERIODIC


def test_a_mail_is_delivered_once_with_two_workers_running(cluster):
    register(Browser(), cluster.web[1], "two@acme.example")
    wait_for(lambda: mails_to(cluster.inbox, "two@acme.example"), 30, "the mail")
    time.sleep(3)  # time for a second copy, if any worker were to send one
    (mail,) = mails_to(cluster.inbox, "two@acme.example")
    ((status, attempts),) = cluster.query(
        "SELECT status, attempts FROM mail_outbox WHERE to_address = %s", "two@acme.example"
    )
    assert (status, attempts) == ("sent", 1)
    assert mail["Message-ID"]


def test_an_smtp_server_stopped_for_a_while_delays_mail_and_loses_none(cluster):
    stopped_at = time.monotonic()
    with cluster.inbox.stopped():
        status, _h, _t = register(Browser(), cluster.web[0], "three@acme.example")
        assert status == 303  # the registration does not wait for the mail server
        assert time.monotonic() - stopped_at < 5

        def failed_once() -> bool:
            rows = cluster.query(
                "SELECT attempts, last_error FROM mail_outbox WHERE to_address = %s",
                "three@acme.example",
            )
            return bool(rows) and rows[0][0] >= 1

        wait_for(failed_once, 30, "a first attempt that fails")
    # The server is back: the minute's delivery run sends what waited, once.
    wait_for(lambda: mails_to(cluster.inbox, "three@acme.example"), 90, "the delayed mail")
    time.sleep(3)
    assert len(mails_to(cluster.inbox, "three@acme.example")) == 1
    ((status,),) = cluster.query(
        "SELECT status FROM mail_outbox WHERE to_address = %s", "three@acme.example"
    )
    assert status == "sent"
