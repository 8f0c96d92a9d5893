"""Lists that grow with data, as every staff list shows them: a page at a time, searchable.

One query shape for all: the view builds a ``select`` with its joined loads
(no query per row), :func:`page_of` runs it for one page and counts the
whole, so a list costs the same few queries at 100 rows or at 100,000. The
template includes ``_list_search.html`` and ``_pagination.html``; the search
words, the filters and the page number live in the query string, so a list
can be bookmarked, reloaded and shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

PAGE_SIZE = 50
SEARCH_LENGTH = 100


@dataclass(frozen=True)
class ListQuery:
    """What a reader asked of a list: the words to find, the filters, the page (from 1)."""

    search: str = ""
    page: int = 1
    filters: Mapping[str, str] = field(default_factory=dict)
    # Each filter's value when the address names none: left out of the links.
    defaults: Mapping[str, str] = field(default_factory=dict)
    # The name of the page number in the address: two lists on one page need two.
    page_key: str = "page"
    # The rest of the address (another list's page, the language): its links keep them.
    others: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, str],
        filters: Mapping[str, Sequence[str]] | None = None,
        page_key: str = "page",
    ) -> ListQuery:
        """Read ``?q=…&page=…`` and the ``filters`` (name → allowed values; the first is the
        default). A page that is no whole number is the first; an unknown filter value is
        its default, so no address of a list can be an error."""
        filters = filters or {}
        own = {"q", page_key, *filters}
        page = args.get(page_key, "1")
        chosen = {}
        for name, allowed in filters.items():
            value = args.get(name, allowed[0])
            chosen[name] = value if value in allowed else allowed[0]
        return cls(
            search=" ".join(args.get("q", "").split())[:SEARCH_LENGTH],
            page=int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10**9 else 1,
            filters=chosen,
            defaults={name: allowed[0] for name, allowed in filters.items()},
            page_key=page_key,
            others={name: value for name, value in args.items() if name not in own},
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string of this list with ``changes`` (``page=2``), without defaults,
        and the rest of the address as it was."""
        values = {"q": self.search, "page": self.page, **self.filters, **changes}
        defaults = {"q": "", "page": "1", **self.defaults}
        own = {
            (self.page_key if name == "page" else name): str(value)
            for name, value in values.items()
            if str(value) != defaults.get(name)
        }
        return {**self.others, **own}

    def on_page(self, page: int) -> ListQuery:
        return replace(self, page=page)


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its items and where it stands in the whole."""

    items: list
    query: ListQuery
    total: int
    size: int
    # The list holds more than ``total`` rows: it was counted only that far.
    more: bool = False

    @property
    def number(self) -> int:
        return self.query.page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_position(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.items) - 1 if self.items else 0

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def matching(search: str, *fields) -> ColumnElement[bool] | None:
    """Rows where every word of ``search`` is in one of ``fields``, case aside (any alphabet:
    SQLite's ``lower`` is given Python's, see ``portal.extensions``); None for no words.

    A field is a column, or a function of a word that returns a condition (an
    organization whose users' addresses hold it). ``%`` and ``_`` are searched
    for as themselves.
    """
    words = search.split()
    if not words:
        return None

    def found(field, word: str) -> ColumnElement[bool]:
        return field(word) if callable(field) else field.icontains(word, autoescape=True)

    return and_(*(or_(*(found(field, word) for field in fields)) for word in words))


def page_of(
    session: Session,
    query: Select,
    asked: ListQuery,
    size: int = PAGE_SIZE,
    count_limit: int | None = None,
) -> ListPage:
    """Page ``asked.page`` of ``query`` (already filtered and ordered): two queries.

    A page past the end shows the last one. With ``count_limit`` the rows are counted
    only that far (a queue of 100,000 open tickets costs what one of 1,000 does): the
    page then says "more than" that many, and its pages end there.
    """
    # Counted without the columns and loads of the page (its joined rows): only what
    # filters the list, so an index can answer the count.
    counted = query.order_by(None).with_only_columns(
        literal_column("1"), maintain_column_froms=True
    )
    if count_limit is not None:
        counted = counted.limit(count_limit + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    more = count_limit is not None and total > count_limit
    if more:
        total = count_limit
    pages = max(1, -(-total // size))
    if asked.page > pages:
        asked = asked.on_page(pages)
    result = session.execute(query.limit(size).offset((asked.page - 1) * size))
    items = list(result.scalars() if len(query.column_descriptions) == 1 else result.all())
    return ListPage(items=items, query=asked, total=total, size=size, more=more)
