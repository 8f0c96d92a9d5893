"""E-mail: the mailers (SMTP, or ``.eml`` files in the outbox) and the staff outbox page.

The views are registered by importing ``portal.mail.routes`` (``create_app`` does), not
from here: the accounts' use cases import ``portal.mail.services``, and the outbox page
imports the accounts' staff guard.
"""

from flask import Blueprint

bp = Blueprint("mail", __name__)
