"""The ticket forms: filing (by a client, or by staff for a caller), replies, and staff's
controls."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import blank_is_none, stripped
from portal.plans import Catalog
from portal.plans.sla import claimable_targets
from portal.plans.tickets import ticket_categories
from portal.tickets.filing import TEXT_LENGTH, TITLE_LENGTH
from portal.tickets.presentation import (
    STAFF_STATUS_LABELS,
    category_name,
    target_name,
)


class TicketForm(FlaskForm):
    """Title, description, category, the target claimed, remote access and files.

    ``setup(catalog, plan)`` gives the category and target choices; the target
    is asked only when the plan has targets to claim. ``submission`` is a key
    made when the form is drawn: sent twice, it files one ticket.
    """

    title = StringField(
        _l("What happened, in a few words"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Say in a few words what happened.")),
            Length(max=TITLE_LENGTH, message=_l("The title is too long: at most 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Describe the problem: what you did, what you saw.")),
            Length(max=TEXT_LENGTH, message=_l("The text is too long: at most 20,000 characters.")),
        ],
    )
    category = RadioField(
        _l("Category"), validators=[InputRequired(message=_l("Choose a category."))]
    )
    target = RadioField(_l("How serious is it?"), validators=[Optional()])
    remote_access = BooleanField(_l("You can give us remote access to the computer"))
    files = MultipleFileField(_l("Files (optional)"))
    submission = HiddenField()

    def setup(self, catalog: Catalog, plan: str | None) -> TicketForm:
        self.category.choices = [
            SelectChoice(category.code, category_name(category, catalog))
            for category in ticket_categories(catalog)
        ]
        if self.category.data is None:
            self.category.data = "support"
        targets = claimable_targets(catalog, plan) if plan else ()
        self.target.choices = [SelectChoice(code, target_name(catalog, code)) for code in targets]
        if not self.submission.data:
            self.submission.data = secrets.token_urlsafe(24)
        return self

    def validate_target(self, field) -> None:
        if self.category.data == "support" and field.choices and not field.data:
            raise ValueError(_l("Choose how serious the problem is."))


class StaffTicketForm(TicketForm):
    """A ticket staff file for a client who phoned: when the call came, who called."""

    called_at = StringField(_l("Time of the call"), filters=[stripped], validators=[DataRequired()])
    contact_phone = StringField(
        _l("Caller's phone (optional)"),
        filters=[blank_is_none],
        validators=[Optional(), Length(max=32)],
    )
    remote_access = BooleanField(_l("The client can give remote access"))


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Write the message.")),
            Length(max=TEXT_LENGTH, message=_l("The text is too long: at most 20,000 characters.")),
        ],
    )
    files = MultipleFileField(_l("Files (optional)"))
    internal = BooleanField(_l("Internal note: the client does not see it"))
    submission = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.submission.data:
            self.submission.data = secrets.token_urlsafe(24)


class StatusForm(FlaskForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(code, label) for code, label in STAFF_STATUS_LABELS.items()],
    )


class AssigneeForm(FlaskForm):
    assignee = SelectField(_l("Assignee"), choices=[])


class RatingForm(FlaskForm):
    rating = IntegerField(
        _l("Your rating"),
        validators=[
            InputRequired(message=_l("Choose from 1 to 5.")),
            NumberRange(1, 5, message=_l("Choose from 1 to 5.")),
        ],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        filters=[stripped],
        validators=[
            Length(max=2000, message=_l("The comment is too long: at most 2,000 characters."))
        ],
    )


class FixDateForm(FlaskForm):
    fix_date = StringField(_l("Fix date"), filters=[stripped], validators=[DataRequired()])


class PlanForm(FlaskForm):
    plan = SelectField(_l("Plan"), choices=[])
    target = SelectField(_l("Target claimed"), choices=[], validators=[Optional()])
