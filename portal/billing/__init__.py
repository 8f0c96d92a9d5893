"""Billing: orders, payments, invoices and subscriptions."""

from flask import Blueprint

bp = Blueprint("billing", __name__)

from portal.billing import routes  # noqa: E402, F401  (registers the views)
