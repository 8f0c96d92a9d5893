"""The work forms: staff log time; clients ask for a connection, order a session, buy hours,
and keep the report's recipients."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.accounts.forms import email_field
from portal.forms import stripped
from portal.work.sessions import DESCRIPTION_LENGTH


def _with_key(form):
    if not form.submission.data:
        form.submission.data = secrets.token_urlsafe(24)
    return form


class TimeEntryForm(FlaskForm):
    """Time spent: how long, on which day, what was done, whether the client pays for it."""

    duration = StringField(
        _l("Time spent"),
        filters=[stripped],
        validators=[DataRequired(message=_l("Say how long the work took."))],
    )
    worked_on = StringField(_l("Day of the work"), filters=[stripped])
    description = TextAreaField(
        _l("What was done"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Say what was done.")),
            Length(max=2000, message=_l("The text is too long: at most 2,000 characters.")),
        ],
    )
    billable = BooleanField(_l("Counts against the client's hours"), default=True)
    submission = HiddenField()

    def setup(self) -> TimeEntryForm:
        return _with_key(self)


class ConnectionForm(FlaskForm):
    agree = BooleanField(_l("I agree to pay for this connection as specialist time"))


class SessionForm(FlaskForm):
    """A paid remote session: the time (direct), the backup (by e-mail), the problem, a phone,
    and the consent."""

    starts_at = RadioField(_l("Session time"), validate_choice=False)
    backup = FileField(_l("Backup file"))
    description = TextAreaField(
        _l("What is the problem"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Describe the problem in detail.")),
            Length(
                min=30,
                max=DESCRIPTION_LENGTH,
                message=_l("Describe the problem in more detail: at least 30 characters."),
            ),
        ],
    )
    contact_phone = StringField(
        _l("Contact phone"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Give a phone number the consultant can call.")),
            Length(max=32),
        ],
    )
    backup_confirmed = BooleanField(_l("I have made a fresh backup of the data"))
    consent = BooleanField(_l("I agree to pay for the time the consultant spends"))
    submission = HiddenField()

    def setup(self) -> SessionForm:
        return _with_key(self)


class RecipientForm(FlaskForm):
    email = email_field(_l("E-mail address"), _l("Give an e-mail address."))
