"""Errors a caller can cause, with a stable code, the offending field and the values.

The message is English; the web layer translates it by ``code`` and ``params``
so that the pure engine needs no translation machinery.
"""

from __future__ import annotations

from typing import Any


class PlanError(ValueError):
    """A request the catalog cannot answer: unknown plan, term not offered, bad date...

    ``code`` is stable public API (``term_not_offered``), ``field`` names the
    request parameter at fault (``term``, ``qty.workstation``) or is None.
    """

    def __init__(self, code: str, message: str, field: str | None = None, **params: Any):
        self.code = code
        self.template = message
        self.field = field
        self.params = params
        super().__init__(message.format(**params))

    @property
    def message(self) -> str:
        return str(self)
