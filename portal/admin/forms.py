"""The admins' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

from portal.accounts.forms import email_field
from portal.models import STAFF_ROLES

STAFF_ROLE_LABELS = {"staff": _l("Staff"), "admin": _l("Admin")}


class StaffInvitationForm(FlaskForm):
    email = email_field(
        _l("E-mail of the person to invite"), missing=_l("Enter their e-mail address.")
    )
    role = SelectField(
        _l("Joins as"),
        choices=[SelectChoice(value, label) for value, label in STAFF_ROLE_LABELS.items()],
        default="staff",
        validators=[AnyOf(sorted(STAFF_ROLES), message=_l("Choose staff or admin."))],
    )
