"""What production runs: the systemd units in deploy/, and gunicorn's settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy").glob("*.service"))
VENV_BIN = Path(sys.executable).parent


def test_deploy_has_a_unit_for_the_web_and_one_for_the_worker():
    assert [unit.name for unit in UNITS] == ["portal-web.service", "portal-worker.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_each_systemd_unit_passes_systemd_analyze_verify(unit, tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: ./scripts/test installs systemd"
    # The unit as installed, with the checkout standing in for /srv/portal.
    text = unit.read_text().replace("/srv/portal/.venv/bin", str(VENV_BIN))
    text = text.replace("/srv/portal", str(ROOT)).replace("/etc/portal", str(tmp_path))
    (tmp_path / "portal.env").write_text("")
    installed = tmp_path / unit.name
    installed.write_text(text)
    verified = subprocess.run(
        [analyze, "verify", str(installed)], capture_output=True, text=True, timeout=60
    )
    said = [line for line in (verified.stdout + verified.stderr).splitlines() if unit.name in line]
    assert verified.returncode == 0 and said == [], verified.stdout + verified.stderr


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, {"workers": 2 * os.cpu_count(), "worker_class": "sync"}, id="defaults"),
        pytest.param(
            {"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4"},
            {"workers": 3, "worker_class": "gthread", "threads": 4},
            id="from the environment",
        ),
        pytest.param(
            {"LOG_FORMAT": "json"}, {"accesslog": None}, id="json logs: the portal logs requests"
        ),
        pytest.param(
            {}, {"accesslog": "-", "control_socket_disable": True}, id="no control socket"
        ),
    ],
)
def test_gunicorns_settings_come_from_the_environment(environ, expected):
    settings = _read_settings(environ)
    assert {name: settings[name] for name in expected} == expected
    assert settings["graceful_timeout"] == settings["timeout"] == 30
    assert settings["secure_scheme_headers"] == {}


def _read_settings(environ: dict) -> dict:
    """The settings gunicorn.conf.py makes in a fresh interpreter with ``environ``."""
    code = (
        "import json, runpy\n"
        "settings = runpy.run_path('gunicorn.conf.py')\n"
        "plain = (int, str, dict, type(None))\n"
        "print(json.dumps({k: v for k, v in settings.items()"
        " if isinstance(v, plain) and not k.startswith('_')}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "LOG_FORMAT")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_gunicorn_accepts_its_settings_and_loads_the_portal(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    checked = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", "--config", "gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_gunicorn_on_the_embedded_default_runs_the_jobs_in_its_workers(tmp_path):
    """No Redis, no worker started: gunicorn's workers deliver the mail themselves."""
    from tests.integration.test_instances import Browser, register, wait_for
    from tests.smtp import free_port

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "JOBS_", "REDIS"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "embedded",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with (tmp_path / "gunicorn.log").open("w") as log:
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), 60, "gunicorn")
        status, _headers, _html = register(Browser(), base, "embedded@acme.example")
        assert status == 303
        outbox = tmp_path / "instance" / "outbox"
        wait_for(lambda: outbox.is_dir() and list(outbox.glob("*.eml")), 30, "the mail file")
        assert len(list(outbox.glob("*.eml"))) == 1
    finally:
        server.terminate()
        server.wait(timeout=60)


def _answers(base: str) -> bool:
    from tests.integration.test_instances import Browser

    try:
        return Browser().get(base, "/healthz")[0] == 200
    except OSError:
        return False
