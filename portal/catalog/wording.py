"""Engine values phrased in the user's language: terms, quote lines, durations, calendars.

The engine returns structure (a line's kind, quantity, months); this module
turns it into words with Flask-Babel, so the API, the pages and the CLI say
the same thing in the same language.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from babel import Locale
from flask import g, has_request_context
from flask_babel import force_locale, get_locale, gettext, lazy_gettext, ngettext

from portal import formatting
from portal.plans import Catalog, LocalizedText, Plan, PlanError, Term
from portal.plans.catalog import Calendar, Duration, PlanSla, Unit
from portal.plans.pricing import Line, Quote
from portal.plans.requests import FIRST_DATE, LAST_DATE

if TYPE_CHECKING:
    from portal.catalog.comparison import Choice


def locale_code() -> str:
    """The language of the current request or command (``uk``).

    Remembered in ``g`` for the rest of a request, where pages ask for it a
    hundred times; a command's ``force_locale`` is read each time.
    """
    if not has_request_context():
        return _babel_locale_code()
    code = g.get("locale_code")
    if code is None:
        code = g.locale_code = _babel_locale_code()
    return code


@contextmanager
def speaking(locale: str | None):
    """Render in ``locale`` (None: as the request chose) for the rest of the block."""
    if locale is None:
        yield
        return
    g.pop("locale_code", None)  # the request's language, remembered by locale_code
    try:
        with force_locale(locale):
            yield
    finally:
        g.pop("locale_code", None)


def _babel_locale_code() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def text(value: LocalizedText | None, catalog: Catalog) -> str | None:
    """A catalog text in the current language, falling back to the catalog's, then English."""
    if value is None:
        return None
    return value.get_for(locale_code(), catalog.locale)


def number(value: Decimal | int) -> str:
    return formatting.number(value, locale_code())


def counted(unit: Unit, count: int, catalog: Catalog) -> str:
    """A count of ``unit`` as the reader's language says it: ``100 касс``, ``100 cash
    registers``; with the catalog's words of another language where it lacks the
    reader's (chosen by that language's plural rule), and ``100 × unit`` without words."""
    locale = locale_code()
    have = unit.counted
    said_in = next((c for c in (locale, catalog.locale, "en") if c in have), None)
    if said_in is None:
        return gettext("%(count)s × %(unit)s", count=number(count), unit=text(unit.name, catalog))
    category = Locale.parse(said_in).plural_form(count)
    word = have[said_in].get(category, have[said_in]["other"])
    return f"{number(count)}\u00a0{word}"


def eligibility_words(plan: Plan, catalog: Catalog) -> str | None:
    """Who may ask for ``plan``: "for clients with 100 cash registers or more"."""
    rule = plan.eligibility
    if rule is None:
        return None
    return gettext(
        "for clients with %(count)s or more",
        count=counted(catalog.units[rule.unit], rule.minimum, catalog),
    )


def numbers(values, separator: str) -> str:
    """Several numbers joined: ``4 / 8``."""
    return separator.join(number(value) for value in values)


def digits(text: str) -> str:
    """``text`` with the current language's digits (Persian: ۰۱۲…)."""
    return formatting.digits(text, locale_code())


def number_plain(value: int) -> str:
    """A number without grouping (a year: 2027, ۲۰۲۷)."""
    return formatting.number(value, locale_code(), grouping=False)


def term_name(term: Term) -> str:
    """``7 months``, ``budget year 2027``, ``2 years`` in the current language."""
    return _term_name(term, locale_code())


@functools.lru_cache(maxsize=1024)
def _term_name(term: Term, locale: str) -> str:
    # Cached per language: a page names the same dozen terms many times.
    if term.kind == "months":
        return ngettext("%(n)s month", "%(n)s months", term.count, n=number(term.count))
    if term.kind == "years":
        return ngettext("%(n)s year", "%(n)s years", term.count, n=number(term.count))
    if term.count == 0:
        return gettext("budget year")
    return gettext("budget year %(year)s", year=number_plain(term.count))


BILLING_NAMES = {
    "monthly": lazy_gettext("monthly in advance"),
    "half-year": lazy_gettext("half a year at once"),
    "year": lazy_gettext("a year at once"),
}


def billing_name(code: str) -> str:
    return str(BILLING_NAMES[code])


def choice_words(catalog: Catalog, choice: Choice) -> list[str]:
    """What a client chose on the comparison, in words: ``7 months``, ``Workstations: 3``…

    Only what was understood: a field the client got wrong is left out.
    """
    locale = locale_code()
    words = []
    if choice.term is not None and "term" not in choice.errors:
        words.append(term_name(choice.term))
    if choice.billing:
        words.append(billing_name(choice.billing))
    for unit, quantity in choice.quantities.items():
        words.append(
            gettext(
                "%(unit)s: %(quantity)s",
                unit=text(catalog.units[unit].name, catalog),
                quantity=number(quantity),
            )
        )
    if choice.licence_value is not None:
        amount = formatting.money(choice.licence_value, catalog.currency, locale)
        words.append(gettext("licence value %(amount)s", amount=amount))
    if choice.renewing and choice.previous_end is not None:
        day = formatting.day(choice.previous_end, locale)
        words.append(gettext("renewing a period that ends on %(date)s", date=day))
    if choice.start is not None:
        words.append(gettext("from %(date)s", date=formatting.day(choice.start, locale)))
    return words


def separator() -> str:
    """What separates the items of a list in the current language (Persian: ``،``)."""
    return "، " if locale_code() == "fa" else ", "


def enumeration(words: list[str]) -> str:
    """Words one after another, as the language separates them."""
    return separator().join(words)


def line_label(line: Line, quote: Quote, catalog: Catalog) -> str:
    """What a quote line prices, in words (``OPTIMA, 7 months``)."""
    name = text(line.name, catalog)
    if line.kind == "plan":
        if line.amount is None:
            return gettext(
                "%(plan)s, %(term)s: price on request", plan=name, term=term_name(line.term)
            )
        if line.percent is not None:
            return gettext(
                "%(plan)s, %(percent)s%% of the licence value %(value)s, %(term)s",
                plan=name,
                percent=number(line.percent),
                value=number(line.unit_price),
                term=term_name(line.term),
            )
        if line.term is None:
            return gettext("%(plan)s: included with the licence", plan=name)
        if line.loyalty:
            return gettext(
                "%(plan)s, %(term)s, loyalty price for a continuous renewal",
                plan=name,
                term=term_name(line.term),
            )
        return gettext("%(plan)s, %(term)s", plan=name, term=term_name(line.term))
    if line.kind == "unit":
        if line.months:
            return gettext(
                "%(unit)s: %(quantity)s × %(price)s × %(term)s",
                unit=name,
                quantity=number(line.quantity),
                price=number(line.unit_price),
                term=term_name(Term("months", line.months)),
            )
        return gettext(
            "%(unit)s: %(quantity)s × %(price)s per request",
            unit=name,
            quantity=number(line.quantity),
            price=number(line.unit_price),
        )
    if line.kind == "vat":
        return gettext("VAT %(percent)s%%", percent=number(line.percent))
    if line.code == "prepayment-discount":
        return gettext(
            "Prepayment discount %(percent)s%%, paid %(billing)s",
            percent=number(line.percent),
            billing=billing_name(quote.billing),
        )
    if line.code == "renewal-discount":
        return gettext(
            "Renewal discount %(percent)s%% for %(term)s",
            percent=number(line.percent),
            term=term_name(line.term),
        )
    if line.kind == "bundle":
        return gettext(
            "%(service)s: %(count)s × bundle of %(hours)s hours at %(price)s",
            service=name,
            count=number(line.quantity),
            hours=number(line.bundle_hours),
            price=number(line.unit_price),
        )
    if line.kind == "hours":
        return gettext(
            "%(service)s: %(hours)s h × %(price)s",
            service=name,
            hours=number(line.quantity),
            price=number(line.unit_price),
        )
    if line.kind == "service":
        return gettext("%(service)s × %(quantity)s", service=name, quantity=number(line.quantity))
    return name


def duration_name(duration: Duration) -> str:
    """``4 working hours``, ``15 minutes``, ``2 working days``."""
    amount = duration.amount
    # Fractions (1.5 hours) take the plural form.
    count = int(amount) if amount == amount.to_integral_value() else 2
    n = number(amount)
    if duration.unit == "minutes":
        return ngettext("%(n)s minute", "%(n)s minutes", count, n=n)
    if duration.unit == "hours":
        return ngettext("%(n)s hour", "%(n)s hours", count, n=n)
    if duration.unit == "days":
        return ngettext("%(n)s day", "%(n)s days", count, n=n)
    if duration.unit == "working_hours":
        return ngettext("%(n)s working hour", "%(n)s working hours", count, n=n)
    return ngettext("%(n)s working day", "%(n)s working days", count, n=n)


def sla_name(upper: Duration, lower: Duration | None) -> str:
    if lower is None:
        return duration_name(upper)
    return gettext("%(lower)s to %(upper)s", lower=number(lower.amount), upper=duration_name(upper))


WEEKDAY_NAMES = (
    lazy_gettext("Monday"),
    lazy_gettext("Tuesday"),
    lazy_gettext("Wednesday"),
    lazy_gettext("Thursday"),
    lazy_gettext("Friday"),
    lazy_gettext("Saturday"),
    lazy_gettext("Sunday"),
)


# Languages that write day names in lower case inside a sentence (English does not).
_LOWER_CASE_WEEKDAYS = frozenset({"ru", "uk", "kk"})


def calendar_name(calendar: Calendar, in_sentence: bool = False) -> str:
    """``Saturday–Wednesday 09:00–17:00, Tehran time, public holidays excluded``.

    ``in_sentence``: the words follow others (``4 working hours, понеділок–п’ятниця …``).
    """
    days = sorted(calendar.days, key=lambda d: (d - _first_day(calendar.days)) % 7)
    span = f"{WEEKDAY_NAMES[days[0]]}–{WEEKDAY_NAMES[days[-1]]}"
    if in_sentence and locale_code() in _LOWER_CASE_WEEKDAYS:
        span = span.lower()
    hours = hours_words(calendar.hours)
    for weekday, own in calendar.weekday_hours:
        name = str(WEEKDAY_NAMES[weekday])
        if in_sentence and locale_code() in _LOWER_CASE_WEEKDAYS:
            name = name.lower()
        hours += f" ({name} {hours_words(own)})"
    city = city_name(calendar.timezone)
    if calendar.holidays_country:
        return gettext(
            "%(days)s %(hours)s, %(city)s time, public holidays excluded",
            days=span,
            hours=hours,
            city=city,
        )
    return gettext("%(days)s %(hours)s, %(city)s time", days=span, hours=hours, city=city)


def hours_words(intervals) -> str:
    """A day's intervals as read: ``09:00–13:00, 14:00–18:00``, in the reader's digits."""
    return digits(", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in intervals))


def city_name(timezone: str) -> str:
    """The city of a time zone in the current language: ``Київ``, ``تهران``."""
    return formatting.city(timezone, locale_code())


def sla_promise(promise: PlanSla, calendar: Calendar | None) -> str:
    """``4 working hours, Saturday–Wednesday 09:00–17:00, Tehran time, …``, or round the clock."""
    within = sla_name(promise.upper, promise.lower)
    if calendar is None:
        return gettext("%(within)s, round the clock", within=within)
    return gettext(
        "%(within)s, %(calendar)s",
        within=within,
        calendar=calendar_name(calendar, in_sentence=True),
    )


# The bounds an error states ("at most 1 000 000"), grouped as the reader groups digits.
_LIMITS = ("minimum", "maximum")
_ISO_DATE = re.compile(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})\b")


def error_message(error: PlanError) -> str:
    """The engine's message for a mistake, in the reader's language, digits and calendar.

    The engine names dates as ``YYYY-MM-DD``; a Persian reader gets them as Jalali
    dates in words (``۱ فروردین ۱۴۰۰``), since that is how they typed or read them.
    """
    locale = locale_code()
    params = dict(error.params)
    for name in _LIMITS:
        if isinstance(params.get(name), int | Decimal):
            params[name] = formatting.number(params[name], locale)
    if "currency" in params:
        params["currency"] = formatting.currency_symbol(params["currency"], locale)
    message = gettext(error.template).format(**params)
    if locale == "fa":
        message = _ISO_DATE.sub(_jalali_words, message)
    return formatting.digits(message, locale)


def _jalali_words(found: re.Match) -> str:
    try:
        day = date(*(int(part) for part in found.groups()))
    except ValueError:
        return found.group(0)  # not a date (2026-02-30): as the client typed it
    if not FIRST_DATE <= day <= LAST_DATE:
        return found.group(0)  # out of range, likely typed in another calendar: as typed
    return formatting.day(day, "fa")


def column_note(error: PlanError, plan: Plan, catalog: Catalog) -> str:
    """Why a plan shows no price for the client's choice, said for a person."""
    if error.code == "licence_value_required":
        return gettext(
            "%(percent)s%% of the licence value a year: enter the licence value to see the price",
            percent=number(plan.percent),
        )
    if error.code == "renewal_required":
        return gettext("Offered only on a continuous renewal of this plan")
    if error.code in ("term_not_offered", "missing_parameter") and error.field == "term":
        offered = ", ".join(term_name(term) for term in plan.terms)
        return gettext("Not offered for this term; offered: %(terms)s", terms=offered)
    if error.code == "empty_quote":
        return gettext("Choose at least one unit to see the price")
    return error_message(error)


def _first_day(days: frozenset[int]) -> int:
    """The day a working week starts: the working day that follows a day off."""
    return next((d for d in sorted(days) if (d - 1) % 7 not in days), min(days))
