"""URL converters: what a part of an address may be before a view sees it."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# The largest id either database stores in an integer column (PostgreSQL's, SQLite's is wider).
LARGEST_ROW_ID = 2**31 - 1


class RowId(IntegerConverter):
    """``<id:order_id>``: a row id either database can hold; any other number is a 404,
    never a query the database refuses."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=LARGEST_ROW_ID)
