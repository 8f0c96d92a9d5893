"""Settings come from the environment, with embedded defaults that need no other service."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.config import database_url, load_config, secret_key

URLS = [
    ({}, "sqlite:///{instance}/portal.sqlite3"),
    ({"DATABASE_URL": "postgres://u@h/db"}, "postgresql+psycopg://u@h/db"),
    ({"DATABASE_URL": "postgresql://u@h/db"}, "postgresql+psycopg://u@h/db"),
    ({"DATABASE_URL": "postgresql+psycopg://u@h/db"}, "postgresql+psycopg://u@h/db"),
    ({"DATABASE_URL": "sqlite:////tmp/x.db"}, "sqlite:////tmp/x.db"),
]


@pytest.mark.parametrize(("environ", "expected"), URLS, ids=[str(e) for e, _ in URLS])
def test_the_database_url_defaults_to_sqlite_in_the_instance_folder(tmp_path, environ, expected):
    assert database_url(environ, tmp_path) == expected.format(instance=tmp_path)


def test_a_missing_secret_key_is_generated_once_and_kept_private(tmp_path: Path):
    first = secret_key({}, tmp_path)
    assert len(first) == 64
    assert secret_key({}, tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_secret_key_from_the_environment_wins(tmp_path):
    assert secret_key({"SECRET_KEY": "from-env"}, tmp_path) == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_the_catalog_defaults_to_kbs(tmp_path):
    assert load_config({}, tmp_path)["PORTAL_CATALOG"] == "kbs"
    assert load_config({"PORTAL_CATALOG": "iotex"}, tmp_path)["PORTAL_CATALOG"] == "iotex"


def test_the_suites_apps_keep_their_files_outside_the_checkout(make_app):
    """The README's test command leaves the checkout's instance/ as it was."""
    from portal import ROOT

    app = make_app()
    assert not Path(app.instance_path).is_relative_to(ROOT)
    assert not Path(app.config["OUTBOX_DIR"]).is_relative_to(ROOT)
    assert not Path(app.config["JOBS_SQLITE"]).is_relative_to(ROOT)
