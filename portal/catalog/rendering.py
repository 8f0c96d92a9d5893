"""HTML rendered from a published catalog version, kept for reuse.

A published version never changes, so HTML that depends only on the version,
the language, the date and the client's choice can be rendered once and served
again: the feature rows of a comparison, or a whole comparison for a choice
many visitors make (the default term). Nothing personal goes in:
callers put in the key everything the HTML depends on.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from markupsafe import Markup

from portal.plans import Catalog


class RenderedParts:
    """A bounded least-recently-used store of rendered HTML, safe across threads."""

    def __init__(self, size: int):
        self.size = size
        self._parts: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable | None, render: Callable[[], str]) -> Markup:
        """The HTML kept under ``key``, or ``render()`` kept now; no key, no keeping."""
        if key is None:
            return Markup(render())
        with self._lock:
            html = self._parts.get(key)
            if html is not None:
                self._parts.move_to_end(key)
                return html
        html = Markup(render())
        with self._lock:
            self._parts[key] = html
            if len(self._parts) > self.size:
                self._parts.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()


def version_key(catalog: Catalog) -> tuple | None:
    """What identifies a published catalog version; None for one not read from the database."""
    if catalog.version is None:
        return None
    return (catalog.code, catalog.version, catalog.checksum)


parts = RenderedParts(size=1024)
