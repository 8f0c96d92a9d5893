"""Money, numbers, dates and times formatted for the reader's language.

Babel does the work; Persian gets Persian digits and Jalali dates (jdatetime,
since Babel knows only the Gregorian calendar), and amounts read number first
with the currency's own decimals in every language (``40 740,00 ₴``,
``۳۰۰٬۰۰۰٬۰۰۰ ریال``).
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jdatetime
from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location
from babel.numbers import format_decimal, get_currency_symbol, parse_pattern

# The Gregorian days jdatetime can turn into Jalali ones; outside them, Gregorian in Persian.
JALALI_FIRST, JALALI_LAST = date(622, 3, 22), date(9999, 3, 20)
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Number first, then the currency, whatever the locale's habit: ₴, ₽ and ریال read so.
# Parsed once: amounts are formatted dozens of times a page.
_MONEY = parse_pattern("#,##0.00\u00a0¤")


# Persian and Arabic-Indic digits, as typed in Iran, to ASCII.
ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
# The Jalali years of the Gregorian years the portal reads dates in (1900..2200): no
# Gregorian year is among them, so a date in one of them can only be Jalali.
JALALI_YEARS = range(1279, 1580)
_TYPED_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
# Day first, as Ukrainian, Russian and Kazakh readers write a date: 20.12.2026.
_TYPED_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def gregorian_date_text(text: str) -> str | None:
    """A date as typed in Iran, as ``YYYY-MM-DD``: Persian digits, and a Jalali date
    (``۱۴۰۵/۰۹/۱۰``, ``1405-09-10``) turned Gregorian. None for a Jalali year with a day
    its calendar has not (``1404-07-31``); anything else comes back as typed, for the
    date parser to judge."""
    typed = text.strip().translate(ASCII_DIGITS)
    day_first = _TYPED_DAY_FIRST.fullmatch(typed)
    if day_first:
        day_, month, year = (int(part) for part in day_first.groups())
        return f"{year:04d}-{month:02d}-{day_:02d}"
    found = _TYPED_DATE.fullmatch(typed)
    if not found:
        return typed
    year, month, day_ = (int(part) for part in found.groups())
    if year in JALALI_YEARS:
        try:
            return jdatetime.date(year, month, day_).togregorian().isoformat()
        except ValueError:
            return None
    return f"{year:04d}-{month:02d}-{day_:02d}"


def typed_date(value: date, locale: str) -> str:
    """A date as the reader types it into a date field: ``۱۴۰۵/۰۹/۲۰`` (Jalali, Persian
    digits), ``20.12.2026`` (uk, ru, kk), ``2026-12-20`` (en); read back by
    :func:`gregorian_date_text`."""
    if locale == "fa" and JALALI_FIRST <= value <= JALALI_LAST:
        jalali = jdatetime.date.fromgregorian(date=value)
        return digits(f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}", locale)
    if locale in ("uk", "ru", "kk"):
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    return value.isoformat()


def date_hint(locale: str) -> str:
    """How a date is typed in ``locale``, for a field's placeholder."""
    return {"fa": "سال/ماه/روز", "uk": "ДД.ММ.РРРР", "ru": "ДД.ММ.ГГГГ", "kk": "КК.АА.ЖЖЖЖ"}.get(
        locale, "YYYY-MM-DD"
    )


def digits(text: str, locale: str) -> str:
    """``text`` with the locale's own digits (Persian: ۰۱۲…)."""
    return text.translate(PERSIAN_DIGITS) if locale == "fa" else text


@functools.cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@functools.lru_cache(maxsize=8192)
def money(amount: Decimal, currency: str, locale: str) -> str:
    """``40 740,00 ₴`` (uk), ``40,740.00 UAH`` (en), ``۳۰۰٬۰۰۰٬۰۰۰ ریال`` (fa)."""
    text = _MONEY.apply(
        amount,
        _locale(locale),
        currency=currency,
        currency_digits=True,
        numbering_system="default",
    )
    return digits(text.replace("\u200e", ""), locale)


def currency_symbol(currency: str, locale: str) -> str:
    """How amounts in ``currency`` are marked in ``locale``: ``₴`` (uk), ``ریال`` (fa), ``UAH``."""
    return get_currency_symbol(currency, locale=_locale(locale))


@functools.lru_cache(maxsize=8192)
def number(value: Decimal | int, locale: str, grouping: bool = True) -> str:
    """A plain number: ``1,5`` (ru), ``۱٫۵`` (fa); ``grouping=False`` for years."""
    text = format_decimal(
        value, locale=_locale(locale), numbering_system="default", group_separator=grouping
    )
    return digits(text, locale)


@functools.lru_cache(maxsize=4096)
def day(value: date, locale: str) -> str:
    """A date in words: ``22 листопада 2026``; Persian in the Jalali calendar: ``۱ آذر ۱۴۰۵``."""
    if locale == "fa" and JALALI_FIRST <= value <= JALALI_LAST:
        jalali = jdatetime.date.fromgregorian(date=value)
        month = jdatetime.date.j_months_fa[jalali.month - 1]
        return digits(f"{jalali.day} {month} {jalali.year}", locale)
    return format_date(value, "d MMMM y", locale=locale)


@functools.lru_cache(maxsize=1024)
def month_year(value: date, locale: str) -> str:
    """A calendar month with its year: ``листопад 2026``, ``November 2026``; Persian readers
    get the Gregorian month in their own words (``نوامبر ۲۰۲۶``): a Gregorian month spans
    two Jalali ones."""
    return digits(format_date(value, "LLLL y", locale=locale), locale)


# Zones renamed since Babel's data was keyed (it aliases the new name to itself and finds
# no city under it), with the name the data uses.
_FORMER_ZONE_NAMES = {"Europe/Kyiv": "Europe/Kiev"}


@functools.lru_cache(maxsize=1024)
def city(timezone: str, locale: str) -> str:
    """The city a time zone is named after, in ``locale``: ``Київ``, ``تهران``, ``Almaty``."""
    zones = _locale(locale).time_zones
    for key in (timezone, _FORMER_ZONE_NAMES.get(timezone)):
        name = key and zones.get(key, {}).get("city")
        if name:
            return name
    name = get_timezone_location(ZoneInfo(timezone), locale=_locale(locale), return_city=True)
    # Without a name in the locale, Babel gives the zone's path ("Argentina/Buenos Aires"):
    # the city is its last part.
    return name.rsplit("/", 1)[-1]


@functools.cache
def zone_countries() -> dict[str, str]:
    """Every time zone CLDR places in a country, with that country's code:
    ``{"Europe/Kyiv": "UA", "Asia/Almaty": "KZ", …}``."""
    return {
        zone: country
        for country, zones in get_global("territory_zones").items()
        for zone in zones
        # Fixed offsets (Etc/GMT+12) are no place anyone lives in; UTC is offered on its own.
        if not zone.startswith("Etc/") and is_known_zone(zone)
    }


def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a folder of zones: OSError
        return False
    return True


@functools.lru_cache(maxsize=1024)
def country_name(code: str | None, locale: str) -> str | None:
    """A country's name in ``locale``: ``Україна``, ``ایران``; None for no code."""
    return _locale(locale).territories.get(code) if code else None


def zone_label(timezone: str, locale: str, now: datetime) -> str:
    """A time zone as people pick it: its UTC offset at ``now`` and its city,
    ``UTC+02:00 Київ`` (``UTC`` alone for UTC)."""
    if timezone == "UTC":
        return "UTC"
    offset = now.astimezone(ZoneInfo(timezone)).utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset else 0
    sign = "+" if minutes >= 0 else "−"
    hours, minutes = divmod(abs(minutes), 60)
    return digits(f"UTC{sign}{hours:02d}:{minutes:02d} {city(timezone, locale)}", locale)


def weekday(value: date, locale: str) -> str:
    """The day of the week in words: ``Saturday``, ``شنبه``."""
    return format_date(value, "EEEE", locale=locale)


def clock(value: datetime, locale: str, timezone: str | None = None) -> str:
    """The time of day, in ``timezone`` when given: ``09:00``, ``۰۹:۰۰``."""
    if timezone:
        value = value.astimezone(ZoneInfo(timezone))
    return digits(format_time(value, "HH:mm", locale=locale), locale)


def moment(value: datetime, locale: str, timezone: str | None = None) -> str:
    """A date and time, in ``timezone`` when given: ``23 November 2026, 09:15``."""
    if timezone:
        value = value.astimezone(ZoneInfo(timezone))
    clock = digits(format_time(value, "HH:mm", locale=locale), locale)
    comma = "، " if locale == "fa" else ", "
    return f"{day(value.date(), locale)}{comma}{clock}"
