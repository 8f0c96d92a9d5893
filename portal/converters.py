"""Addresses: what a part of a URL may be before a view sees it, and which paths are ours."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest id either database stores in an integer column (PostgreSQL's, SQLite's is wider).
LARGEST_ROW_ID = 2**31 - 1


def row_id(text: str | None) -> int | None:
    """A row id typed into a form (a ticket, a technician), or None: no number, or one no
    row can have."""
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if 1 <= value <= LARGEST_ROW_ID else None


class RowId(IntegerConverter):
    """``<id:order_id>``: a row id either database can hold; any other number is a 404,
    never a query the database refuses."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=LARGEST_ROW_ID)


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/staff/callbacks?x=1``), else None.

    Refuses absolute URLs, scheme-relative ``//host`` and ``/\\host`` (which
    browsers read as another host), and control characters.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
