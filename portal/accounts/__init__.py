"""Accounts: staff sign in and out, ``flask users``, and the ``staff_required`` guard.

Client registration, organizations, e-mail confirmation and password resets
will extend the same ``User`` model, services and blueprint.
"""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from portal.accounts import access, routes  # noqa: E402, F401  (user loader, views)
