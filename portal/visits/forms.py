"""The visit forms: a client books, moves or asks to change a visit; staff keep technicians,
their time off, the dispatch queue and planned visits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import stripped
from portal.visits.booking import ADDRESS_LENGTH, PURPOSE_LENGTH
from portal.work.forms import _with_key


class VisitForm(FlaskForm):
    """A visit: the time (or as soon as possible), where, what for, a phone, a ticket, and
    the price accepted when it costs something."""

    when = RadioField(_l("Time of the visit"), validate_choice=False)
    address = TextAreaField(
        _l("Address"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Give the address the technician comes to.")),
            Length(
                max=ADDRESS_LENGTH, message=_l("The address is too long: at most 500 characters.")
            ),
        ],
    )
    purpose = TextAreaField(
        _l("What the technician is to do"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Say what the technician is to do.")),
            Length(
                max=PURPOSE_LENGTH, message=_l("The text is too long: at most 4,000 characters.")
            ),
        ],
    )
    contact_phone = StringField(
        _l("Contact phone"), filters=[stripped], validators=[Optional(), Length(max=32)]
    )
    ticket_id = SelectField(_l("Ticket"), validate_choice=False)
    accept = BooleanField(_l("I accept the price of this visit"))
    accepted_total = HiddenField(validators=[Length(max=32)])
    submission = HiddenField(validators=[Length(max=64)])

    def setup(self) -> VisitForm:
        return _with_key(self)


class MoveForm(FlaskForm):
    when = RadioField(_l("New time"), validate_choice=False)


class ChangeForm(FlaskForm):
    change = TextAreaField(
        _l("What to change"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Say what to change.")),
            Length(
                max=PURPOSE_LENGTH, message=_l("The text is too long: at most 4,000 characters.")
            ),
        ],
    )


class TechnicianForm(FlaskForm):
    """A staff member who visits: region and, where they differ from the office's, their
    own working days, hours, zone and holidays."""

    user_id = SelectField(_l("Staff member"), validate_choice=False)
    region = SelectField(_l("Region"), validate_choice=False)
    days = StringField(
        _l("Working days"), filters=[stripped], validators=[Optional(), Length(max=32)]
    )
    hours = StringField(
        _l("Working hours"), filters=[stripped], validators=[Optional(), Length(max=64)]
    )
    timezone = StringField(
        _l("Time zone"), filters=[stripped], validators=[Optional(), Length(max=64)]
    )
    holidays = StringField(
        _l("Public holidays of"), filters=[stripped], validators=[Optional(), Length(max=8)]
    )


class TimeOffForm(FlaskForm):
    starts_on = StringField(_l("From"), filters=[stripped], validators=[DataRequired()])
    ends_on = StringField(_l("To"), filters=[stripped], validators=[DataRequired()])
    note = StringField(_l("Note"), filters=[stripped], validators=[Optional(), Length(max=200)])


class AssignForm(FlaskForm):
    technician_id = SelectField(_l("Technician"), validate_choice=False)
    day = StringField(_l("Day"), filters=[stripped], validators=[DataRequired()])
    start = StringField(_l("Start time"), filters=[stripped], validators=[DataRequired()])


class PlannedVisitForm(FlaskForm):
    """A visit the provider schedules for a contract client (iiko's maintenance visits)."""

    organization_id = SelectField(_l("Client"), validate_choice=False)
    technician_id = SelectField(_l("Technician"), validate_choice=False)
    day = StringField(_l("Day"), filters=[stripped], validators=[DataRequired()])
    start = StringField(_l("Start time"), filters=[stripped], validators=[DataRequired()])
    hours = StringField(_l("Hours"), filters=[stripped], validators=[DataRequired()])
    address = TextAreaField(
        _l("Address"),
        filters=[stripped],
        validators=[DataRequired(message=_l("Give the address the technician comes to."))],
    )
    purpose = TextAreaField(
        _l("What the technician is to do"),
        filters=[stripped],
        validators=[DataRequired(message=_l("Say what the technician is to do."))],
    )
