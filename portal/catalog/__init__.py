"""The public catalog: plans side by side, and the ``flask catalog`` commands."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from portal.catalog import routes  # noqa: E402, F401  (registers the views)
