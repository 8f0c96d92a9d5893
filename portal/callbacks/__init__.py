"""Call-back and quote requests: the client's form, its confirmation, and the staff list."""

from flask import Blueprint

bp = Blueprint("callbacks", __name__)

from portal.callbacks import routes  # noqa: E402, F401  (registers the views)
