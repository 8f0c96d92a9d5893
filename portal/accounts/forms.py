"""Forms of the accounts pages."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional, ValidationError

from portal import formatting
from portal.accounts import services
from portal.catalog.wording import locale_code, number
from portal.forms import blank_is_none, stripped
from portal.i18n import LANGUAGE_NAMES, LOCALES


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )
    next = HiddenField()


def email_field(label=None, missing=None) -> EmailField:
    return EmailField(
        label or _l("E-mail"),
        filters=[stripped],
        validators=[
            DataRequired(message=missing or _l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
            looks_like_email,
        ],
    )


def looks_like_email(form, field) -> None:
    if field.data and not services.is_email(services.normalize_email(field.data)):
        raise ValidationError(_("This is not an e-mail address. Type it like name@example.com."))


def _new_password_fields():
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("Choose a password.")),
            Length(
                min=services.CLIENT_MIN_PASSWORD_LENGTH,
                message=_l(
                    "A password has at least %(count)s characters.",
                    # Written when the message is: in the reader's digits.
                    count=LazyString(lambda: number(services.CLIENT_MIN_PASSWORD_LENGTH)),
                ),
            ),
        ],
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(message=_l("Type the password a second time.")),
            EqualTo("password", message=_l("The two passwords differ. Type them again.")),
        ],
    )
    return password, password_again


def _name_field() -> StringField:
    return StringField(
        _l("Your name"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=200, message=_l("A name has at most 200 characters.")),
        ],
    )


class ProfileFields:
    """The organization's name, language and time zone, shared by registration and the profile.

    The time zone list is the common zones of the portal's languages, the
    catalog's, and the one already chosen; any IANA name zoneinfo knows passes.
    """

    def setup_choices(
        self, first_zone: str, country: str | None, extra_zones: Iterable[str], now: datetime
    ) -> None:
        """The catalog's zone and country first (``first_zone``, ``country``), then every
        other zone; ``extra_zones`` (the one already chosen) are always among them."""
        self.language.choices = list(LANGUAGE_NAMES)
        self.timezone.choices = timezone_choices(
            first_zone, country, extra_zones, locale_code(), now
        )

    def validate_timezone(self, field) -> None:
        if not services.is_timezone(field.data or ""):
            raise ValidationError(_("Choose a time zone from the list."))


def _organization_name_field() -> StringField:
    return StringField(
        _l("Organization"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Enter the name of your organization.")),
            Length(max=200, message=_l("A name has at most 200 characters.")),
        ],
    )


def _language_field() -> SelectField:
    return SelectField(
        _l("Language"),
        validate_choice=False,  # AnyOf, for a message of our own
        validators=[AnyOf(LOCALES, message=_l("Choose a language from the list."))],
    )


def _timezone_field() -> SelectField:
    return SelectField(_l("Time zone"), validate_choice=False)


class RegistrationForm(ProfileFields, FlaskForm):
    # Where to go once the address is confirmed (the order being chosen), carried in the link.
    next = HiddenField()
    organization = _organization_name_field()
    name = _name_field()
    email = email_field()
    password, password_again = _new_password_fields()
    language = _language_field()
    timezone = _timezone_field()
    terms = BooleanField(
        _l("I accept the terms of service and the processing of these details to run my account"),
        validators=[DataRequired(message=_l("An account needs your agreement to the terms."))],
    )

    def registration(self) -> services.Registration:
        return services.Registration(
            organization=services.OrganizationProfile(
                name=self.organization.data,
                language=self.language.data,
                timezone=self.timezone.data,
            ),
            name=self.name.data,
            email=self.email.data,
            password=self.password.data,
        )


class OrganizationForm(ProfileFields, FlaskForm):
    name = _organization_name_field()
    tax_number = StringField(
        _l("Tax number"),
        filters=[blank_is_none],
        validators=[
            Optional(),
            Length(max=64, message=_l("A tax number has at most 64 characters.")),
        ],
    )
    address = TextAreaField(
        _l("Legal address"),
        filters=[blank_is_none],
        validators=[
            Optional(),
            Length(max=1000, message=_l("An address has at most 1000 characters.")),
        ],
    )
    language = _language_field()
    timezone = _timezone_field()

    def profile(self) -> services.OrganizationProfile:
        return services.OrganizationProfile(
            name=self.name.data,
            language=self.language.data,
            timezone=self.timezone.data,
            tax_number=self.tax_number.data,
            address=self.address.data,
        )


class EmailForm(FlaskForm):
    """One address: to send a new confirmation link, or a password reset link."""

    email = email_field()


# What each role of an organization's people may do, as the owner chooses them.
MEMBER_ROLE_LABELS = {
    "member": _l("Member: sees the account, orders and documents"),
    "billing": _l("Billing: also orders, pays and cancels orders"),
}
ROLE_NAMES = {"owner": _l("Owner"), "billing": _l("Billing"), "member": _l("Member")}


def _member_role_field(label) -> SelectField:
    return SelectField(
        label,
        choices=[SelectChoice(value, label) for value, label in MEMBER_ROLE_LABELS.items()],
        default="member",
        validators=[AnyOf(services.MEMBER_ROLES, message=_l("Choose one of the roles."))],
    )


class InvitationForm(FlaskForm):
    email = email_field(
        _l("E-mail of the person to invite"), missing=_l("Enter your colleague's e-mail address.")
    )
    role = _member_role_field(_l("Joins as"))


class MemberRoleForm(FlaskForm):
    role = _member_role_field(_l("Role"))


class NewPasswordForm(FlaskForm):
    password, password_again = _new_password_fields()


class AcceptInvitationForm(FlaskForm):
    name = _name_field()
    password, password_again = _new_password_fields()


# Common zones of the portal's languages' countries: the UK, Ukraine, Russia, Iran, Kazakhstan.
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Kyiv",
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
    "Asia/Tehran",
    "Asia/Almaty",
    "Asia/Aqtobe",
    "Asia/Oral",
)


def timezone_choices(
    first: str, country: str | None, extra: Iterable[str], locale: str, now: datetime
) -> dict[str, list[tuple[str, str, dict]]]:
    """The time zones to pick from, in two groups: ``first`` (the catalog's zone) and the
    rest of ``country``'s zones, then every other zone, each group by UTC offset at ``now``
    then city. Each option carries its country's name, which the list's search matches.

    ``("Europe/Kyiv", "UTC+02:00 Kyiv", {"data-country": "Ukraine"})``.
    """
    # Offsets change on the hour at most: the list is worked out once an hour per language.
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return _timezone_choices(first, country, tuple(sorted(set(extra))), locale, hour)


@functools.lru_cache(maxsize=64)
def _timezone_choices(
    first: str, country: str | None, extra: tuple[str, ...], locale: str, now: datetime
) -> dict[str, list[tuple[str, str, dict]]]:
    countries = formatting.zone_countries()
    known = {*countries, *COMMON_TIMEZONES, first}
    known.update(zone for zone in extra if zone and services.is_timezone(zone))
    home = {first} | {zone for zone in known if country and countries.get(zone) == country}

    def order(name: str) -> tuple:
        offset = now.astimezone(ZoneInfo(name)).utcoffset() or timedelta(0)
        return (name != first, offset, "" if name == "UTC" else formatting.city(name, locale))

    def option(name: str) -> tuple[str, str, dict]:
        where = formatting.country_name(countries.get(name), locale)
        return (name, formatting.zone_label(name, locale, now), {"data-country": where or ""})

    home_label = formatting.country_name(country, locale) or _("Your time zone")
    return {
        home_label: [option(name) for name in sorted(home, key=order)],
        _("Other time zones"): [option(name) for name in sorted(known - home, key=order)],
    }


class ApiTokenForm(FlaskForm):
    """A new personal API token: only its name is chosen, the portal makes the rest."""

    name = StringField(
        _l("Name of the token"),
        filters=[stripped],
        validators=[
            DataRequired(message=_l("Name the token: what or who will use it.")),
            Length(max=100, message=_l("A token's name has at most 100 characters.")),
        ],
    )
