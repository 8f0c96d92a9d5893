"""The admins' area: the audit log of what admins and staff did to money, accounts and the
catalog."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import catalog, routes  # noqa: E402, F401  (registers the views)
