"""Tickets: the client files and follows them, staff answer them, the sweep keeps their SLA."""

from flask import Blueprint

bp = Blueprint("tickets", __name__)

from portal.tickets import routes, staff  # noqa: E402, F401  (registers the views)
