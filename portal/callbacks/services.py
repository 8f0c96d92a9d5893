"""Use cases of call-back requests: take one, find it, list the open ones, close one.

The promised call-back time comes from the engine (``callback_due``); these
functions receive the session, the catalog and the time, and commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.listing import matching
from portal.models import CALLBACK_KINDS, PREFERRED_TIMES, CallbackRequest, User
from portal.plans import Catalog, PlanError
from portal.plans.pricing import check_eligibility
from portal.plans.sla import callback_due

MAX_OPTIONS_LENGTH = 2000
# Where a catalog has no calendar with public holidays, its language tells the country.
_LOCALE_COUNTRIES = {"uk": "UA", "ru": "RU", "fa": "IR", "kk": "KZ"}


class CallbackError(ValueError):
    """A request that cannot be taken; ``field`` names the detail at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidPhoneNumber(CallbackError):
    def __init__(self, message: str) -> None:
        super().__init__("phone", message)


@dataclass(frozen=True)
class CallbackDetails:
    """What the client filled in, and what they were looking at."""

    kind: str
    name: str
    phone: str
    preferred_time: str
    consent: bool
    locale: str
    plan: str | None = None
    company: str | None = None
    options: str = ""
    # A quote's: the address it goes to, and the counts its plan asks for.
    email: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)


def phone_region(catalog: Catalog) -> str | None:
    """The country whose national phone formats the catalog's clients type (``UA``, ``RU``…).

    The country of the catalog's public holidays, else the one its language is
    spoken in; None when neither tells (then only ``+``-prefixed numbers parse).
    """
    for calendar in catalog.calendars.values():
        if calendar.holidays_country:
            return calendar.holidays_country.upper()
    return _LOCALE_COUNTRIES.get(catalog.locale)


def e164(raw: str, region: str | None) -> str:
    """``raw`` as an E.164 number (``+380671234567``), read in ``region``'s national format.

    Raises :class:`InvalidPhoneNumber` for text that is no number, a number of
    impossible length, or one no operator has allocated.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber(f"{raw!r} has the wrong number of digits")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"{raw!r} is not an allocated number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable_phone(number: str) -> str:
    """An E.164 number grouped for reading aloud: ``+380 67 123 4567``."""
    return phonenumbers.format_number(
        phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def example_number(region: str | None) -> str | None:
    """A mobile number in ``region``'s national format, for hints: ``050 123 4567`` (UA)."""
    if region is None:
        return None
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def request_callback(
    session: Session, catalog: Catalog, details: CallbackDetails, now: datetime
) -> CallbackRequest:
    """Take a call-back (or quote) request made at ``now`` (aware) and commit it.

    While a request of the same catalog, phone, kind, plan and name is open,
    that request is the answer (brought up to date): sending the form twice
    asks for one call, not two.

    ``due_at`` is the catalog's promise computed by the engine, None when the
    catalog promises no time. The phone is stored in E.164. Raises
    :class:`CallbackError` for a request without consent, an unknown kind,
    preferred time or plan, a quote without a plan, options longer than
    ``MAX_OPTIONS_LENGTH`` or a phone number that is not one.
    """
    if not details.consent:
        raise CallbackError("consent", "the client must agree to be called")
    if details.kind not in CALLBACK_KINDS:
        raise CallbackError("kind", f"kind must be one of {', '.join(CALLBACK_KINDS)}")
    if details.preferred_time not in PREFERRED_TIMES:
        raise CallbackError(
            "preferred_time", f"preferred time must be one of {', '.join(PREFERRED_TIMES)}"
        )
    if details.plan is not None and details.plan not in catalog.plans:
        raise CallbackError("plan", f"{catalog.code} has no plan {details.plan!r}")
    if details.kind == "quote" and details.plan is None:
        raise CallbackError("plan", "a quote is for a plan")
    if len(details.options) > MAX_OPTIONS_LENGTH:
        raise CallbackError("options", f"options have more than {MAX_OPTIONS_LENGTH} characters")
    if not details.name.strip():
        raise CallbackError("name", "a name is required")
    counts = _quote_counts(catalog, details)
    phone = e164(details.phone, phone_region(catalog))
    open_key = request_key(catalog.code, phone, details.kind, details.plan, details.name)
    already = open_request_by_key(session, open_key)
    if already is not None:
        return _brought_up_to_date(session, already, catalog, details)
    row = CallbackRequest(
        token=secrets.token_urlsafe(24),
        kind=details.kind,
        catalog=catalog.code,
        catalog_version=catalog.version,
        plan=details.plan,
        options=details.options,
        name=details.name.strip(),
        phone=phone,
        company=(details.company or "").strip() or None,
        email=details.email if details.kind == "quote" else None,
        counts=counts,
        preferred_time=details.preferred_time,
        locale=details.locale,
        created_at=now,
        due_at=callback_due(catalog, now),
        consent=True,
        open_key=open_key,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        # The same request sent twice at once (a double click): the first one stands.
        session.rollback()
        already = open_request_by_key(session, open_key)
        if already is None:
            raise
        return _brought_up_to_date(session, already, catalog, details)
    return row


def _quote_counts(catalog: Catalog, details: CallbackDetails) -> dict[str, int]:
    """The counts a quote request gives: one for each the plan asks, none short of the
    plan's minimum; an e-mail to send the quote to. A call-back carries none."""
    if details.kind != "quote":
        return {}
    plan = catalog.plans[details.plan]
    if not details.email:
        raise CallbackError("email", "a quote needs the e-mail address to send it to")
    if set(details.counts) != set(plan.quote_questions):
        asked = ", ".join(plan.quote_questions) or "none"
        raise CallbackError("counts", f"a quote for {plan.code} gives the counts: {asked}")
    for unit, count in details.counts.items():
        if not isinstance(count, int) or count < 0:
            raise CallbackError(f"count_{unit}", f"{unit}: a count is a whole number from 0")
    try:
        check_eligibility(plan, details.counts)
    except PlanError as error:
        raise CallbackError(f"count_{plan.eligibility.unit}", str(error)) from None
    return dict(details.counts)


def request_key(catalog: str, phone: str, kind: str, plan: str | None, name: str) -> str:
    """What makes two open requests the same one: the catalog, phone, kind, plan and name.

    The name is part of it, so that someone else calling from the same number
    is a request of their own, and is never shown the first caller's.
    """
    who = " ".join(name.split()).casefold()
    return hashlib.sha256(f"{catalog}|{phone}|{kind}|{plan or ''}|{who}".encode()).hexdigest()


def _brought_up_to_date(
    session: Session, request: CallbackRequest, catalog: Catalog, details: CallbackDetails
) -> CallbackRequest:
    """The open request asked for again: what the client said last is what staff read.

    Its time and promise stay: the call it asks for is the one already promised.
    """
    request.name = details.name.strip()
    request.company = (details.company or "").strip() or None
    request.preferred_time = details.preferred_time
    request.options = details.options or request.options
    if request.kind == "quote":
        request.email = details.email
        request.counts = _quote_counts(catalog, details)
    request.locale = details.locale
    session.commit()
    return request


def open_request_by_key(session: Session, open_key: str) -> CallbackRequest | None:
    return session.scalars(
        select(CallbackRequest).where(CallbackRequest.open_key == open_key)
    ).one_or_none()


def find_by_token(session: Session, token: str) -> CallbackRequest | None:
    return session.execute(
        select(CallbackRequest).where(CallbackRequest.token == token)
    ).scalar_one_or_none()


def open_request_list(search: str = ""):
    """Requests nobody has closed yet, oldest first, for staff: those whose name, phone or
    company holds every word of ``search`` (a phone as typed: ``067 123 45 67``)."""
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.closed_at.is_(None))
        .order_by(CallbackRequest.created_at, CallbackRequest.id)
    )
    found = matching(search, CallbackRequest.name, CallbackRequest.phone, CallbackRequest.company)
    return query.where(found) if found is not None else query


def close_request(
    session: Session, request_id: int, staff: User, now: datetime
) -> CallbackRequest | None:
    """Mark a request done by ``staff`` at ``now`` and commit; None if there is no such request.

    Closing a closed request changes nothing: the first close is kept, also when
    two people press Done at once.
    """
    session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == request_id, CallbackRequest.closed_at.is_(None))
        .values(closed_at=now, closed_by_id=staff.id, open_key=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return session.get(CallbackRequest, request_id)
