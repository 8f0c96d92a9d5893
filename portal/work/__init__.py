"""Time that is counted and paid: work time against included and prepaid hours, extra time
invoiced at month end, remote connections, paid remote sessions, acts and monthly reports."""

from flask import Blueprint

bp = Blueprint("work", __name__)

from portal.work import routes, staff  # noqa: E402, F401  (registers the views)
