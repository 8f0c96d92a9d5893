"""The call-back and quote request form."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from portal.accounts import services as accounts
from portal.accounts.forms import looks_like_email
from portal.callbacks import services
from portal.catalog.wording import counted as counted_words
from portal.catalog.wording import digits, text
from portal.forms import blank_is_none, stripped
from portal.models import CALLBACK_KINDS, PREFERRED_TIMES
from portal.plans import Catalog, PlanError
from portal.plans.pricing import check_eligibility
from portal.plans.requests import parse_whole

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

    # Asked for a quote only (the template shows it then): where the quote goes.
    email = EmailField(
        _l("E-mail for the quote"),
        filters=[stripped],
        validators=[
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
        ],
    )
    # The counts the plan's quote asks for, as count_<unit> fields (see quote_form).
    count_units: tuple[str, ...] = ()

    def __init__(self, *args, catalog: Catalog, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        self.region = services.phone_region(catalog)

    @property
    def count_fields(self) -> list:
        return [self[f"count_{unit}"] for unit in self.count_units]

    def validate_email(self, field) -> None:
        if self.kind.data != "quote" or field.errors:
            return
        if not field.data:
            raise ValidationError(_("Enter the e-mail address the quote should go to."))
        looks_like_email(self, field)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        plan = self.catalog.plans.get(self.plan.data or "")
        rule = plan.eligibility if plan is not None and self.kind.data == "quote" else None
        if rule is None or f"count_{rule.unit}" not in self:
            return valid
        counted = self[f"count_{rule.unit}"]
        if counted.errors:
            return False
        try:
            check_eligibility(plan, {rule.unit: counted.data})
        except PlanError:
            counted.errors = [
                _(
                    "%(plan)s is for clients with %(count)s or more. For fewer, ask for a "
                    "call-back: we will suggest the support that fits.",
                    plan=text(plan.name, self.catalog),
                    count=counted_words(self.catalog.units[rule.unit], rule.minimum, self.catalog),
                )
            ]
            return False
        return valid

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
            email=accounts.normalize_email(self.email.data)
            if self.kind.data == "quote" and self.email.data
            else None,
            counts={unit: self[f"count_{unit}"].data for unit in self.count_units},
        )


def quote_form(catalog: Catalog, plan: str | None, kind: str, **kwargs) -> CallbackForm:
    """The form for ``kind`` about ``plan``: a quote for a plan priced on request also asks
    the counts the plan names (registers, stores), each a whole number."""
    chosen = catalog.plans.get(plan or "") if kind == "quote" else None
    questions = chosen.quote_questions if chosen is not None else {}
    if not questions:
        return CallbackForm(catalog=catalog, **kwargs)
    fields = {
        f"count_{unit}": WholeNumberField(text(question, catalog))
        for unit, question in questions.items()
    }
    form_class = type("QuoteForm", (CallbackForm,), {**fields, "count_units": tuple(questions)})
    return form_class(catalog=catalog, **kwargs)


class WholeNumberField(StringField):
    """A count typed as people type it (``120``, ``۱۲۰``): ``data`` is an int, or None."""

    def process_formdata(self, valuelist) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        typed = (self.raw or "").strip()
        if not typed:
            raise ValueError(_("Enter a number."))
        try:
            self.data = parse_whole(typed, self.name, minimum=0)
        except PlanError:
            raise ValueError(
                _("Type a whole number, for example %(example)s.", example=digits("120"))
            ) from None

    def _value(self) -> str:
        return (
            self.raw
            if getattr(self, "raw", None) is not None
            else ("" if self.data is None else str(self.data))
        )
