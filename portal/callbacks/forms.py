"""The call-back and quote request form."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from portal.callbacks import services
from portal.catalog.wording import digits
from portal.forms import blank_is_none, stripped
from portal.models import CALLBACK_KINDS, PREFERRED_TIMES
from portal.plans import Catalog

PREFERRED_TIME_LABELS = {
    "asap": _l("As soon as possible"),
    "morning": _l("In the morning"),
    "afternoon": _l("In the afternoon"),
    "evening": _l("In the evening"),
}
KIND_LABELS = {"callback": _l("Call-back"), "quote": _l("Quote")}


class CallbackForm(FlaskForm):
    """Name, phone, company, preferred time and consent; plan, kind and options ride along.

    Built with the active ``catalog``: the phone is read in the catalog's
    country's national format, and the plan must be one of its plans.
    """

    name = StringField(
        _l("Your name"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=200, message=_l("A name has at most 200 characters.")),
        ],
    )
    phone = TelField(
        _l("Phone"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Enter a phone number.")),
            Length(max=40, message=_l("A phone number has at most 40 characters.")),
        ],
    )
    company = StringField(
        _l("Company (optional)"),
        filters=[stripped],
        validators=[
            Optional(),
            Length(max=200, message=_l("A company name has at most 200 characters.")),
        ],
    )
    preferred_time = SelectField(
        _l("When should we call?"),
        choices=[SelectChoice(value, label) for value, label in PREFERRED_TIME_LABELS.items()],
        default="asap",
        # AnyOf instead of the built-in choice check, for a message of our own.
        validate_choice=False,
        validators=[AnyOf(PREFERRED_TIMES, message=_l("Choose a time from the list."))],
    )
    consent = BooleanField(
        _l("I agree to be called and to the processing of these details for that purpose"),
        validators=[DataRequired(message=_l("We can only call you with your agreement."))],
    )
    plan = HiddenField(filters=[blank_is_none])
    kind = HiddenField(
        default="callback",
        validators=[AnyOf(CALLBACK_KINDS, message=_l("This kind of request is unknown."))],
    )
    options = HiddenField(
        default="",
        filters=[lambda value: value or ""],
        validators=[
            Length(
                max=services.MAX_OPTIONS_LENGTH,
                message=_l(
                    "The options you were looking at were too long to send and are left out. "
                    "Send the form again."
                ),
            )
        ],
    )

    def __init__(self, *args, catalog: Catalog, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        self.region = services.phone_region(catalog)

    def validate_phone(self, field) -> None:
        if field.errors:
            return  # too long already said
        try:
            services.e164(field.data, self.region)
        except services.InvalidPhoneNumber:
            example = services.example_number(self.region)
            if example:
                example = digits(example)
                message = _(
                    "This is not a phone number we can call. Type it with its area code, "
                    "for example %(example)s.",
                    example=example,
                )
            else:
                message = _(
                    "This is not a phone number we can call. Type it with its country code, "
                    "for example +44 20 7946 0000."
                )
            raise ValidationError(message) from None

    def validate_plan(self, field) -> None:
        if field.data is not None and field.data not in self.catalog.plans:
            raise ValidationError(_("This plan is no longer offered."))
        if field.data is None and self.kind.data == "quote":
            raise ValidationError(_("A quote is for a plan: choose one on the comparison."))

    def details(self, locale: str) -> services.CallbackDetails:
        return services.CallbackDetails(
            kind=self.kind.data,
            name=self.name.data,
            phone=self.phone.data,
            company=self.company.data or None,
            preferred_time=self.preferred_time.data,
            consent=bool(self.consent.data),
            locale=locale,
            plan=self.plan.data,
            options=self.options.data,
        )
