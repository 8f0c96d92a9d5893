"""On-site technician visits: technicians and their time, free blocks of a week, bookings
within the plan's yearly quota or priced before they are made, the dispatch queue, moves
and cancellations with calendar files, and the provider's planned visits."""

from flask import Blueprint

bp = Blueprint("visits", __name__)

from portal.visits import routes, staff  # noqa: E402, F401  (registers the views)
