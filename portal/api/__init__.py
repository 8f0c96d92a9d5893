"""The JSON API, version 1: ``/api/v1/catalog``, ``/api/v1/quote``, ``/api/v1/sla``, and the
tickets (``/api/v1/tickets``) for personal API tokens."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from portal.api import routes, tickets  # noqa: E402, F401  (registers the views)
