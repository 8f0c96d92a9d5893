"""Turn the parameters of a quote (query string, CLI options) into a checked request.

The JSON API and the CLI pass the same flat mapping (``plan``, ``term``,
``qty.workstation``...), so both give the same answers and the same errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from portal.plans.catalog import Catalog, Plan
from portal.plans.errors import PlanError
from portal.plans.money import CURRENCY_WORDS, minor_unit
from portal.plans.terms import Term

MAX_QUANTITY = 100_000
MAX_HOURS = Decimal(10_000)
MAX_AMOUNT = Decimal(10) ** 18
PLAN_PARAMETERS = {
    "plan",
    "term",
    "start",
    "billing",
    "licence_value",
    "previous_plan",
    "previous_end",
}
SERVICE_PARAMETERS = {"service", "hours", "quantity", "first_time"}
SLA_PARAMETERS = {"plan", "target", "opened"}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2200, 12, 31)
# Digits of other scripts read as ASCII; group separators dropped; the Persian decimal sign a dot.
_AMOUNT_CHARACTERS = str.maketrans(
    {
        **{ord(d): str(i) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")},
        **{ord(d): str(i) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")},
        " ": None,
        "\u00a0": None,
        "\u202f": None,
        "_": None,
        "\u066c": None,
        "\u066b": ".",
    }
)
_AMBIGUOUS_GROUPING = re.compile(r"\d{1,3}(,\d{3})+")
# An amount of money: the number, with what may stand before and after it (a currency).
# An amount of money: digits of other scripts as ASCII, the Arabic letters of "ريال" as the
# Persian ones, and every space or group sign a plain space (the groups are checked).
_MONEY_CHARACTERS = str.maketrans(
    {
        **{ord(d): str(i) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")},
        **{ord(d): str(i) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")},
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "_": " ",
        "\u066c": " ",
        "\u066b": ".",
        "\u060c": ",",
        "\u064a": "\u06cc",
        "\u0643": "\u06a9",
    }
)
_MONEY = re.compile(
    r"(?P<before>[^0-9.,]*?) *(?P<number>[0-9](?:[0-9.,]| (?=[0-9]))*) *(?P<after>[^0-9]*)"
)
# Spaces group thousands: "1 000 000,50"; "1 5" is no amount.
_SPACE_GROUPED = re.compile(r"[0-9]{1,3}( [0-9]{3})+([.,][0-9]+)?")
_GROUPED = {sep: re.compile(rf"[0-9]{{1,3}}(\{sep}[0-9]{{3}})+") for sep in ",."}
_DIGITS = re.compile(r"[0-9]+")
_PLAIN_NUMBER = re.compile(r"\d{1,19}([.,]\d{1,6})?")
_WHOLE = re.compile(r"\+?\d{1,9}")


@dataclass(frozen=True)
class PlanQuoteRequest:
    """What to price for a plan. ``quantities`` holds only the units the caller named."""

    plan: str
    term: Term | None
    start: date
    billing: str | None = None
    quantities: Mapping[str, int] = field(default_factory=dict)
    licence_value: Decimal | None = None
    previous_plan: str | None = None
    previous_end: date | None = None


@dataclass(frozen=True)
class ServiceQuoteRequest:
    """What to price for a service: ``hours`` for hourly ones, ``quantity`` for fixed ones."""

    service: str
    hours: Decimal | None = None
    quantity: int | None = None
    first_time: bool = True


def parse_quote_request(
    catalog: Catalog, params: Mapping[str, str], today: date
) -> PlanQuoteRequest | ServiceQuoteRequest:
    """Check ``params`` against ``catalog``; ``today`` is the default start (catalog's date).

    Raises :class:`PlanError` naming the first parameter at fault.
    """
    params = {k: v for k, v in params.items() if v is not None}
    if "plan" in params and "service" in params:
        raise PlanError(
            "conflicting_parameters", "Ask for a plan or a service, not both", "service"
        )
    if "service" in params:
        return _service_request(catalog, params)
    if "plan" not in params:
        raise PlanError("missing_parameter", "Name a plan (plan=CODE) or a service", "plan")
    return _plan_request(catalog, params, today)


def _plan_request(catalog: Catalog, params: Mapping[str, str], today: date) -> PlanQuoteRequest:
    for name in params:
        if name not in PLAN_PARAMETERS and not name.startswith("qty."):
            _unknown_parameter(name, PLAN_PARAMETERS | {"qty.UNIT"})
    plan = plan_of(catalog, params["plan"], "plan")
    term = _term(plan, params.get("term"))

    previous_plan = params.get("previous_plan")
    previous_end = (
        parse_date(params["previous_end"], "previous_end") if "previous_end" in params else None
    )
    if previous_plan is not None:
        plan_of(catalog, previous_plan, "previous_plan")
        if previous_end is None:
            raise PlanError(
                "missing_parameter",
                "Give the end date of the previous period (previous_end)",
                "previous_end",
            )
    elif previous_end is not None:
        raise PlanError(
            "missing_parameter",
            "Name the plan of the previous period (previous_plan)",
            "previous_plan",
        )

    if "start" in params:
        start = parse_date(params["start"], "start")
    elif previous_end is not None:
        if previous_end == date.max:
            raise PlanError(
                "invalid_date",
                "{value} is too far in the future",
                "previous_end",
                value=previous_end.isoformat(),
            )
        start = previous_end + timedelta(days=1)
    else:
        start = term.default_start(today) if term else today

    billing = params.get("billing")
    if billing is not None and billing not in plan.billing:
        offered = ", ".join(plan.billing) or "—"
        raise PlanError(
            "billing_not_offered",
            "Billing '{value}' is not offered for this plan (offered: {offered})",
            "billing",
            value=billing,
            offered=offered,
        )

    quantities = {}
    for name, value in params.items():
        if name.startswith("qty."):
            unit = name.removeprefix("qty.")
            if unit not in catalog.units:
                raise PlanError(
                    "unknown_unit",
                    "Unknown unit '{unit}' (units: {units})",
                    name,
                    unit=unit,
                    units=", ".join(catalog.units) or "—",
                )
            priced = unit in plan.unit_prices or (
                plan.eligibility is not None and plan.eligibility.unit == unit
            )
            if not priced:
                raise PlanError(
                    "unit_not_offered", "This plan is not priced per '{unit}'", name, unit=unit
                )
            quantities[unit] = parse_whole(value, name, minimum=0)

    licence_value = None
    if "licence_value" in params:
        if plan.pricing != "percent-of-licence":
            raise PlanError(
                "parameter_not_applicable",
                "This plan is not priced by licence value",
                "licence_value",
            )
        licence_value = parse_money(params["licence_value"], "licence_value", catalog.currency)
    elif plan.pricing == "percent-of-licence":
        raise PlanError(
            "licence_value_required",
            "This plan is priced as a percentage of the licence value: give licence_value",
            "licence_value",
        )
    return PlanQuoteRequest(
        plan=plan.code,
        term=term,
        start=start,
        billing=billing,
        quantities=quantities,
        licence_value=licence_value,
        previous_plan=previous_plan,
        previous_end=previous_end,
    )


def _service_request(catalog: Catalog, params: Mapping[str, str]) -> ServiceQuoteRequest:
    for name in params:
        if name not in SERVICE_PARAMETERS:
            _unknown_parameter(name, SERVICE_PARAMETERS)
    code = params["service"]
    service = catalog.services.get(code)
    if service is None:
        raise PlanError(
            "unknown_service",
            "Unknown service '{value}' (services: {known})",
            "service",
            value=code,
            known=", ".join(catalog.services) or "—",
        )
    hours = quantity = None
    if "hours" in params:
        if service.pricing != "hourly":
            raise PlanError(
                "parameter_not_applicable", "This service is not sold by the hour", "hours"
            )
        hours = parse_amount(params["hours"], "hours", maximum=MAX_HOURS)
    if "quantity" in params:
        if service.pricing != "fixed":
            raise PlanError(
                "parameter_not_applicable",
                "This service is sold by the hour: give hours",
                "quantity",
            )
        quantity = parse_whole(params["quantity"], "quantity", minimum=1)
    first_time = True
    if "first_time" in params:
        value = params["first_time"].strip().lower()
        if value not in _TRUE | _FALSE:
            raise PlanError(
                "invalid_boolean",
                "'{value}' is not true or false",
                "first_time",
                value=params["first_time"],
            )
        first_time = value in _TRUE
    return ServiceQuoteRequest(code, hours=hours, quantity=quantity, first_time=first_time)


def _unknown_parameter(name: str, known: set[str]) -> None:
    raise PlanError(
        "unknown_parameter",
        "Unknown parameter '{value}' (parameters: {known})",
        name,
        value=name,
        known=", ".join(sorted(known)),
    )


def plan_of(catalog: Catalog, code: str, field_name: str = "plan") -> Plan:
    """The catalog's plan ``code``; a PlanError on ``field_name`` naming the plans there are."""
    plan = catalog.plans.get(code)
    if plan is None:
        raise PlanError(
            "unknown_plan",
            "Unknown plan '{value}' (plans: {known})",
            field_name,
            value=code,
            known=", ".join(catalog.plans),
        )
    return plan


def _term(plan: Plan, code: str | None) -> Term | None:
    if not plan.takes_term:
        if code is not None:
            raise PlanError("term_not_applicable", "This plan takes no term", "term")
        return None
    offered = ", ".join(t.code for t in plan.terms)
    if code is None:
        raise PlanError(
            "missing_parameter", "Choose a term (offered: {offered})", "term", offered=offered
        )
    term = Term.parse(code)
    if plan.offer_for(term) is None:
        raise PlanError(
            "term_not_offered",
            "Term {value} is not offered for this plan (offered: {offered})",
            "term",
            value=term.code,
            offered=offered,
        )
    return term


def parse_date(value: str, field_name: str) -> date:
    """A calendar date written YYYY-MM-DD, in the years 1900..2200."""
    text = value.strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise PlanError(
            "invalid_date", "'{value}' is not a date (YYYY-MM-DD)", field_name, value=value
        ) from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise PlanError(
            "invalid_date",
            "'{value}' is outside the years {first}..{last}",
            field_name,
            value=value,
            first=FIRST_DATE.year,
            last=LAST_DATE.year,
        )
    return day


def parse_whole(value: str, field_name: str, minimum: int) -> int:
    """A whole number from ``minimum`` to MAX_QUANTITY."""
    text = str(value).strip()
    if not _WHOLE.fullmatch(text) or not minimum <= int(text) <= MAX_QUANTITY:
        raise PlanError(
            "invalid_quantity",
            "'{value}' must be a whole number from {minimum} to {maximum}",
            field_name,
            value=value,
            minimum=minimum,
            maximum=MAX_QUANTITY,
        )
    return int(text)


def parse_amount(value: str, field_name: str, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A positive decimal number as people type it: ``1500``, ``2,5``, ``1 000 000``, ``۱۲۰۰``.

    Spaces and the Persian thousands sign group digits; a comma or the Persian
    decimal sign is a decimal point. ``250,000`` could mean either, so it is
    refused rather than guessed. Exponents (``1e3``) are not amounts.
    """
    text = str(value).strip().translate(_AMOUNT_CHARACTERS)
    if _AMBIGUOUS_GROUPING.fullmatch(text):
        raise PlanError(
            "invalid_amount",
            "'{value}' is ambiguous: write the amount without thousands separators",
            field_name,
            value=value,
        )
    number = None
    if _PLAIN_NUMBER.fullmatch(text):
        number = Decimal(text.replace(",", "."))
    if number is None or not Decimal(0) < number <= maximum:
        raise PlanError(
            "invalid_amount",
            "'{value}' must be a number more than 0 and at most {maximum}",
            field_name,
            value=value,
            maximum=maximum,
        )
    return number


def parse_money(
    value: str, field_name: str, currency: str, maximum: Decimal = MAX_AMOUNT
) -> Decimal:
    """A positive amount of ``currency`` as people type it: ``1,000,000,000``,
    ``1 000 000 000``, ``1.000.000,50``, ``1,000,000.50``, ``۱۲۰۰۰۰۰ ریال``, ``₽ 1500``.

    Digits of other scripts count; spaces group thousands (``1 5`` is refused).
    Several commas (or dots) group thousands; with both, the last one is the
    decimal point. A single comma before exactly three digits groups thousands
    (``250,000``), since no currency here has three decimals, unless the whole part
    is 0 (``0,500`` is a half); a single dot there (``1.000``) is refused as
    ambiguous. A currency word or sign before or after must be ``currency``'s own.
    """
    text = " ".join(str(value).translate(_MONEY_CHARACTERS).split())
    found = _MONEY.fullmatch(text)
    if found is None:
        raise _not_an_amount(value, field_name, maximum)
    number = found["number"]
    if " " in number:
        if not _SPACE_GROUPED.fullmatch(number):
            raise _not_an_amount(value, field_name, maximum)
        number = number.replace(" ", "")
    for typed in (found["before"], found["after"]):
        if typed and typed.lower() not in CURRENCY_WORDS.get(currency, ()):
            if any(ch.isalpha() or ch in "$€₽₴₸﷼" for ch in typed):
                raise PlanError(
                    "amount_currency",
                    "'{value}' is not an amount in {currency}",
                    field_name,
                    value=value,
                    currency=currency,
                )
            raise _not_an_amount(value, field_name, maximum)
    whole, fraction = _split_amount(number, value, field_name, maximum)
    decimals = minor_unit(currency)
    if len(fraction.rstrip("0")) > decimals:
        raise PlanError(
            "amount_decimals",
            "'{value}' has more decimals than {currency} has ({decimals})",
            field_name,
            value=value,
            currency=currency,
            decimals=decimals,
        )
    number = Decimal(f"{whole}.{fraction}" if fraction else whole)
    if not Decimal(0) < number <= maximum:
        raise _not_an_amount(value, field_name, maximum)
    return number


def _split_amount(text: str, value: str, field_name: str, maximum: Decimal) -> tuple[str, str]:
    """The whole and fractional digits of a number with its separators."""
    commas, dots = text.count(","), text.count(".")
    whole, fraction = text, ""
    if commas and dots:
        point = max(text.rfind(","), text.rfind("."))
        whole, fraction = text[:point], text[point + 1 :]
        grouping = "." if text[point] == "," else ","
        if not (_GROUPED[grouping].fullmatch(whole) or _DIGITS.fullmatch(whole)):
            raise _not_an_amount(value, field_name, maximum)
        whole = whole.replace(grouping, "")
    elif commas > 1 or dots > 1:
        grouping = "," if commas else "."
        if not _GROUPED[grouping].fullmatch(text):
            raise _not_an_amount(value, field_name, maximum)
        whole = text.replace(grouping, "")
    elif commas or dots:
        whole, fraction = re.split(r"[.,]", text)
        # "250,000" groups thousands; "0,500" is half of one.
        if len(fraction) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0"):
            if dots:
                raise PlanError(
                    "invalid_amount",
                    "'{value}' is ambiguous: write the amount without thousands separators",
                    field_name,
                    value=value,
                )
            whole, fraction = whole + fraction, ""
    if not (_DIGITS.fullmatch(whole) and len(whole) <= 19 and _DIGITS.fullmatch(fraction or "0")):
        raise _not_an_amount(value, field_name, maximum)
    return whole, fraction


def _not_an_amount(value: str, field_name: str, maximum: Decimal) -> PlanError:
    return PlanError(
        "invalid_amount",
        "'{value}' must be a number more than 0 and at most {maximum}",
        field_name,
        value=value,
        maximum=maximum,
    )


@dataclass(frozen=True)
class SlaRequest:
    plan: str
    target: str
    opened: datetime


def parse_sla_request(catalog: Catalog, params: Mapping[str, str], now: datetime) -> SlaRequest:
    """Check the parameters of an SLA question; ``opened`` defaults to ``now``."""
    params = {k: v for k, v in params.items() if v is not None}
    for name in params:
        if name not in SLA_PARAMETERS:
            _unknown_parameter(name, SLA_PARAMETERS)
    for name in ("plan", "target"):
        if name not in params:
            raise PlanError("missing_parameter", "Give the {value} parameter", name, value=name)
    plan = plan_of(catalog, params["plan"], "plan")
    if params["target"] not in plan.sla:
        raise PlanError(
            "unknown_target",
            "This plan has no SLA target '{value}' (targets: {known})",
            "target",
            value=params["target"],
            known=", ".join(plan.sla) or "—",
        )
    opened = parse_instant(params["opened"], "opened") if "opened" in params else now
    return SlaRequest(plan.code, params["target"], opened)


def parse_instant(value: str, field_name: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``2027-01-15T10:00:00+02:00`` or ``...Z``).

    A ``+`` that a query string turned into a space is read back as ``+``.
    """
    text = value.strip()
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or "T" not in text.upper():
        raise PlanError(
            "invalid_datetime",
            "'{value}' is not a time (ISO 8601, e.g. 2027-01-15T10:00:00+02:00)",
            field_name,
            value=value,
        )
    if instant.tzinfo is None:
        raise PlanError(
            "invalid_datetime",
            "'{value}' needs a UTC offset (e.g. +02:00 or Z)",
            field_name,
            value=value,
        )
    if not FIRST_DATE <= instant.date() <= LAST_DATE:
        raise PlanError(
            "invalid_datetime",
            "'{value}' is outside the years {first}..{last}",
            field_name,
            value=value,
            first=FIRST_DATE.year,
            last=LAST_DATE.year,
        )
    return instant
