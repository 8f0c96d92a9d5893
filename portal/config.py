"""Configuration from environment variables, with embedded defaults that need no other service."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

DEFAULT_CATALOG = "kbs"
DEFAULT_MAIL_FROM = "portal@localhost"
# How long a request or a worker waits for Redis before it gives up on an answer.
REDIS_TIMEOUT_SECONDS = 5
# How long a link sent by mail works, per purpose; TOKEN_MAX_AGE_SECONDS overrides any of them.
TOKEN_MAX_AGES = {"confirm": 2 * 24 * 3600, "invitation": 2 * 24 * 3600, "reset": 3600}


def database_url(environ: Mapping[str, str], instance_path: Path) -> str:
    """``DATABASE_URL``, or an SQLite file under ``instance/``.

    ``postgres://`` and ``postgresql://`` URLs are sent to the psycopg 3 driver.
    """
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'portal.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def secret_key(environ: Mapping[str, str], instance_path: Path) -> str:
    """``SECRET_KEY``, or a random key generated once and kept in ``instance/secret_key``."""
    key = environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        # O_EXCL: two workers starting together must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def load_config(environ: Mapping[str, str], instance_path: Path) -> dict:
    """The settings of the portal, read from ``environ``."""
    instance_path.mkdir(parents=True, exist_ok=True)
    return {
        "SECRET_KEY": secret_key(environ, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(environ, instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PORTAL_CATALOG": environ.get("PORTAL_CATALOG", "").strip() or DEFAULT_CATALOG,
        # How often a worker asks the database whether a newer catalog version was published.
        "CATALOG_REFRESH_SECONDS": float(environ.get("CATALOG_REFRESH_SECONDS", "2")),
        # The session cookie carries the login: never to scripts, never on cross-site posts,
        # and only over HTTPS except while developing (create_app relaxes it for tests).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not _debug(environ),
        # Limits (sign-in attempts, mail forms) count per process in memory, or across
        # every worker and instance in Redis. A Redis that stops answering costs a request
        # at most REDIS_TIMEOUT_SECONDS, after which limits count in the process's memory
        # until Redis is back.
        "REDIS_URL": environ.get("REDIS_URL", "").strip() or None,
        "RATELIMIT_STORAGE_URI": environ.get("REDIS_URL", "").strip() or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": {
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        },
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        **job_settings(environ, instance_path),
        **mail_settings(environ, instance_path),
        # Links in mail are built on PORTAL_URL when set, else on the request's host (the
        # embedded default, on 127.0.0.1); behind a proxy PORTAL_URL is required.
        "PORTAL_URL": environ.get("PORTAL_URL", "").strip().rstrip("/") or None,
        "TOKEN_MAX_AGE_SECONDS": token_max_ages(environ.get("TOKEN_MAX_AGE_SECONDS", "")),
        **serving_settings(environ),
        **billing_settings(environ),
        **ticket_settings(environ, instance_path),
        **work_settings(environ, instance_path),
    }


# What a ticket's attachments may be, by the type their content shows.
DEFAULT_TICKET_FILE_TYPES = (
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,application/zip,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)


def work_settings(environ: Mapping[str, str], instance_path: Path) -> dict:
    """Paid remote sessions.

    ``SESSION_FILES_DIR``: where backups sent for a session are kept
    (``instance/session-files``); ``SESSION_FILE_MAX_MB``: the largest backup (500),
    streamed to disk, never read whole into memory; ``SESSION_CANCEL_HOURS``: a booked
    session can be cancelled online until that many hours before it starts (2).
    """
    return {
        "SESSION_FILES_DIR": environ.get("SESSION_FILES_DIR", "").strip()
        or str(instance_path / "session-files"),
        "SESSION_FILE_MAX_BYTES": _number(environ, "SESSION_FILE_MAX_MB", 500, 1, 10240) * 2**20,
        "SESSION_CANCEL_HOURS": _number(environ, "SESSION_CANCEL_HOURS", 2, 0, 168),
    }


def ticket_settings(environ: Mapping[str, str], instance_path: Path) -> dict:
    """Tickets' files and life.

    ``TICKET_FILES_DIR``: where attachments are kept (``instance/ticket-files``; never
    under ``static/``). ``TICKET_FILE_MAX_MB``: the largest file (10);
    ``TICKET_FILES_PER_MESSAGE``: how many go with one message (5);
    ``TICKET_FILE_TYPES``: the MIME types taken, comma-separated, as the content shows
    them. ``TICKET_AUTO_CLOSE_DAYS``: a resolved ticket closes after that many days
    without a reply from the client (7).
    """
    types = environ.get("TICKET_FILE_TYPES", "").strip() or DEFAULT_TICKET_FILE_TYPES
    return {
        "TICKET_FILES_DIR": environ.get("TICKET_FILES_DIR", "").strip()
        or str(instance_path / "ticket-files"),
        "TICKET_FILE_MAX_BYTES": _number(environ, "TICKET_FILE_MAX_MB", 10, 1, 2048) * 2**20,
        "TICKET_FILES_PER_MESSAGE": _number(environ, "TICKET_FILES_PER_MESSAGE", 5, 1, 50),
        "TICKET_FILE_TYPES": tuple(t.strip() for t in types.split(",") if t.strip()),
        "TICKET_AUTO_CLOSE_DAYS": _number(environ, "TICKET_AUTO_CLOSE_DAYS", 7, 1, 365),
    }


def serving_settings(environ: Mapping[str, str]) -> dict:
    """How the portal sits behind a proxy and what it logs.

    ``PROXY_HOPS``: how many proxies in front of the portal set ``X-Forwarded-For``,
    ``-Proto`` and ``-Port`` (0: none, the headers are ignored; 1: nginx alone); it
    needs ``PORTAL_URL``. ``MAX_CONTENT_LENGTH``: the largest request body in bytes
    (2 MiB), a larger one answers 413. ``LOG_FORMAT``: ``json`` for one JSON object a line.
    """
    log_format = environ.get("LOG_FORMAT", "").strip().lower()
    if log_format not in ("", "json", "text"):
        raise ValueError(f"LOG_FORMAT: {log_format!r} is neither json nor text")
    level = environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"LOG_LEVEL: {level!r} is not DEBUG, INFO, WARNING or ERROR")
    hops = _number(environ, "PROXY_HOPS", 0, 0, 5)
    if hops and not environ.get("PORTAL_URL", "").strip():
        # Behind a proxy any Host reaches the portal: a password link must not follow it.
        raise ValueError("PROXY_HOPS is set: set PORTAL_URL too, the address links lead to")
    return {
        "PROXY_HOPS": hops,
        "MAX_CONTENT_LENGTH": _number(environ, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024, 1024, 2**40),
        "LOG_FORMAT": log_format or None,
        "LOG_LEVEL": level,
    }


def billing_settings(environ: Mapping[str, str]) -> dict:
    """Payment settings. Cards are offered when ``STRIPE_SECRET_KEY`` is set (and the catalog
    takes cards); ``STRIPE_API_BASE`` points at another Stripe-compatible server.
    An unpaid invoice expires after ``INVOICE_DUE_DAYS`` days. The supplier's details on
    invoices come from the catalog's ``[provider]`` section.
    """

    def text(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    due_days = text("INVOICE_DUE_DAYS") or "10"
    if not due_days.isdigit() or not 1 <= int(due_days) <= 365:
        raise ValueError(f"INVOICE_DUE_DAYS: {due_days!r} is not a number of days 1..365")
    return {
        "STRIPE_SECRET_KEY": text("STRIPE_SECRET_KEY"),
        "STRIPE_WEBHOOK_SECRET": text("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": (text("STRIPE_API_BASE") or "").rstrip("/") or None,
        "INVOICE_DUE_DAYS": int(due_days),
    }


def job_settings(environ: Mapping[str, str], instance_path: Path) -> dict:
    """Where jobs wait: Redis when ``REDIS_URL`` is set, else ``JOBS_SQLITE`` under
    ``instance/``. ``JOBS_IN_PROCESS`` (default: on without Redis) makes the serving
    process run the jobs itself, so no worker needs starting; ``JOBS_QUEUE`` names the
    queue (several portals on one Redis)."""
    in_process = environ.get("JOBS_IN_PROCESS", "").strip()
    return {
        "JOBS_QUEUE": environ.get("JOBS_QUEUE", "").strip() or "portal",
        "JOBS_SQLITE": environ.get("JOBS_SQLITE", "").strip()
        or str(instance_path / "jobs.sqlite3"),
        "JOBS_IN_PROCESS": (
            _flag(environ, "JOBS_IN_PROCESS")
            if in_process
            else not environ.get("REDIS_URL", "").strip()
        ),
    }


def mail_settings(environ: Mapping[str, str], instance_path: Path) -> dict:
    """``MAIL_*``: SMTP when ``MAIL_SERVER`` is set; otherwise mail goes to ``OUTBOX_DIR``."""

    def text(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    return {
        "MAIL_SERVER": text("MAIL_SERVER"),
        "MAIL_PORT": int(text("MAIL_PORT") or 25),
        "MAIL_USE_TLS": _flag(environ, "MAIL_USE_TLS"),
        "MAIL_USE_SSL": _flag(environ, "MAIL_USE_SSL"),
        "MAIL_USERNAME": text("MAIL_USERNAME"),
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": text("MAIL_FROM") or DEFAULT_MAIL_FROM,
        "OUTBOX_DIR": text("OUTBOX_DIR") or str(instance_path / "outbox"),
        "MAIL_TIMEOUT_SECONDS": _number(environ, "MAIL_TIMEOUT_SECONDS", 10, 1, 300),
        # A mail that does not go waits MAIL_RETRY_SECONDS, then twice as long each time
        # (at most an hour), until MAIL_RETRY_HOURS after it was written.
        "MAIL_RETRY_SECONDS": _number(environ, "MAIL_RETRY_SECONDS", 30, 1, 3600),
        "MAIL_RETRY_HOURS": _number(environ, "MAIL_RETRY_HOURS", 24, 1, 24 * 14),
        # Sent mail is forgotten after MAIL_KEEP_DAYS; mail given up after three times that.
        "MAIL_KEEP_DAYS": _number(environ, "MAIL_KEEP_DAYS", 30, 1, 3650),
    }


def _number(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = environ.get(name, "").strip() or str(default)
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{name}: {value!r} is not a whole number {low}..{high}")
    return int(value)


def token_max_ages(setting: str) -> dict[str, int]:
    """Seconds a mailed link works, per purpose: the defaults, overridden by ``setting``.

    ``setting`` is ``TOKEN_MAX_AGE_SECONDS``: space- or comma-separated
    ``purpose=seconds`` pairs, e.g. ``"reset=1800 confirm=86400"``; purposes are
    ``confirm``, ``invitation`` and ``reset``.
    """
    ages = dict(TOKEN_MAX_AGES)
    for pair in setting.replace(",", " ").split():
        purpose, _, seconds = pair.partition("=")
        if purpose not in ages or not seconds.isdigit() or int(seconds) <= 0:
            raise ValueError(
                f"TOKEN_MAX_AGE_SECONDS: {pair!r} is not purpose=seconds "
                f"with a purpose among {', '.join(ages)}"
            )
        ages[purpose] = int(seconds)
    return ages


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _debug(environ: Mapping[str, str]) -> bool:
    """``FLASK_DEBUG`` as Flask reads it (``flask run --debug`` sets it)."""
    return environ.get("FLASK_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
