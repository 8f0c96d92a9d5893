"""The time, as the application sees it: a collaborator tests can replace (``CLOCK`` setting)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utc_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """The current aware time from the application's ``CLOCK``."""
    return current_app.config["CLOCK"]()


def today_in(timezone: str) -> date:
    """Today's date in ``timezone`` (a catalog's), which is where terms start."""
    return now().astimezone(ZoneInfo(timezone)).date()
