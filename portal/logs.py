"""Logs: a line per request with its id, and one JSON object a line when ``LOG_FORMAT=json``.

Every request gets an id: the proxy's ``X-Request-Id`` when it is a sane token,
else a new one. It is sent back in the response's ``X-Request-Id``, stamped on
every log record written while the request runs, and on the request's own line
(``portal.requests``: method, path, status, duration in ms). With
``LOG_FORMAT=json`` the portal, gunicorn and Huey all log JSON to standard
error; otherwise the usual text, with gunicorn's access log naming the id.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

# Ids a proxy may hand on: letters, digits and a few separators, so that no header
# can write a line or a field of its own into the logs.
REQUEST_ID = re.compile(r"\A[A-Za-z0-9._:@/+=-]{1,128}\Z")
requests_log = logging.getLogger("portal.requests")
# What a record carries besides the standard attributes, put in the JSON as it is.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


# Characters that would start a line of their own, or hide what follows, in a text log.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def logged_path() -> str:
    """The request's path as the log keeps it: a link's token masked (``/confirm/…``), so
    that whoever reads the logs opens nobody's account, and no character that could
    forge a line of its own."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name == "token" and isinstance(value, str) and value:
            path = path.replace(value, "…")
    return _UNPRINTABLE.sub(lambda found: f"\\x{ord(found.group()):02x}", path)


def request_id() -> str | None:
    """The id of the request being served, if any."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written in (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the request id,
    the fields passed as ``extra``, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in ("message", "asctime"):
                document[key] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def configure(log_format: str, level: str = "INFO") -> None:
    """Send every logger's records to standard error: JSON or text."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Give each request its id and its log line; configure logging when ``LOG_FORMAT`` says."""
    if app.config.get("LOG_FORMAT"):
        configure(app.config["LOG_FORMAT"], app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def start() -> None:
        asked = request.headers.get("X-Request-Id", "")
        g.request_id = asked if REQUEST_ID.match(asked) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response):
        started = g.get("request_started")
        if started is None:  # a request refused before it began (a 413 on the way in)
            start()
            started = g.request_started
        response.headers["X-Request-Id"] = g.request_id
        path = logged_path()
        requests_log.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "request_id": g.request_id,
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "remote_addr": request.remote_addr,
            },
        )
        return response
