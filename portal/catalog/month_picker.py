"""The month picker of a date field, in the reader's calendar: Jalali months from Saturday on
Persian pages, Gregorian months from Monday elsewhere. Server-rendered: htmx fetches a month,
and a day's button puts the date into the field as the reader types it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import jdatetime
from babel.dates import format_date, get_day_names

from portal import formatting
from portal.plans.requests import FIRST_DATE, LAST_DATE

# The fields of the comparison that take a date.
DATE_FIELDS = ("start", "previous_end", "publish_day")


@dataclass(frozen=True)
class PickerDay:
    day: date  # Gregorian, as the engine reads it
    label: str  # the day of the month in the reader's calendar and digits
    typed: str  # what the field then holds
    today: bool
    selected: bool
    too_early: bool


@dataclass(frozen=True)
class MonthPicker:
    field: str
    month: str  # "1405-09" (Jalali) or "2026-12"
    title: str  # "آذر ۱۴۰۵", "грудень 2026 р."
    weekdays: tuple[str, ...]
    weeks: tuple[tuple[PickerDay | None, ...], ...]
    previous: str
    next: str


def month_picker(
    field: str,
    locale: str,
    month: str | None,
    selected: date | None,
    earliest: date | None,
    today: date,
) -> MonthPicker:
    """The month ``month`` ("YYYY-MM" in the reader's calendar; else the selected day's
    month, else today's) laid out in weeks for ``locale``; days before ``earliest`` are off."""
    jalali = locale == "fa"
    year, number = _month_of(month, jalali) or _month_containing(selected or today, jalali)
    first, days = _first_and_length(year, number, jalali)
    week_start = 5 if jalali else 0  # Saturday in Iran, Monday elsewhere
    lead = (first.weekday() - week_start) % 7
    cells: list[PickerDay | None] = [None] * lead
    for offset in range(days):
        day = first + timedelta(days=offset)
        cells.append(
            PickerDay(
                day=day,
                label=formatting.digits(str(offset + 1), locale),
                typed=formatting.typed_date(day, locale),
                today=day == today,
                selected=day == selected,
                too_early=earliest is not None and day < earliest,
            )
        )
    cells.extend([None] * (-len(cells) % 7))
    weeks = tuple(tuple(cells[i : i + 7]) for i in range(0, len(cells), 7))
    previous = (year, number - 1) if number > 1 else (year - 1, 12)
    following = (year, number + 1) if number < 12 else (year + 1, 1)
    return MonthPicker(
        field=field,
        month=f"{year:04d}-{number:02d}",
        title=_title(first, year, number, locale),
        weekdays=_weekdays(locale, week_start),
        weeks=weeks,
        previous=f"{previous[0]:04d}-{previous[1]:02d}",
        next=f"{following[0]:04d}-{following[1]:02d}",
    )


def _month_of(text: str | None, jalali: bool) -> tuple[int, int] | None:
    """A month key as the links give it; None for anything else (the default month then)."""
    try:
        year, number = (int(part) for part in (text or "").split("-"))
    except ValueError:
        return None
    years = formatting.JALALI_YEARS if jalali else range(FIRST_DATE.year, LAST_DATE.year + 1)
    return (year, number) if year in years and 1 <= number <= 12 else None


def _month_containing(day: date, jalali: bool) -> tuple[int, int]:
    if jalali:
        converted = jdatetime.date.fromgregorian(date=day)
        return converted.year, converted.month
    return day.year, day.month


def _first_and_length(year: int, number: int, jalali: bool) -> tuple[date, int]:
    if jalali:
        first = jdatetime.date(year, number, 1)
        following = jdatetime.date(year + (number == 12), number % 12 + 1, 1)
        return first.togregorian(), (following.togregorian() - first.togregorian()).days
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return first, (following - first).days


def _title(first: date, year: int, number: int, locale: str) -> str:
    if locale == "fa":
        return formatting.digits(f"{jdatetime.date.j_months_fa[number - 1]} {year}", locale)
    return format_date(first, "LLLL y", locale=locale)


@functools.cache
def _weekdays(locale: str, week_start: int) -> tuple[str, ...]:
    # Short names fit a day's column: "пн", "Mo", "۱ش" (Persian abbreviations are whole words).
    names = get_day_names("short", context="stand-alone", locale=locale)
    return tuple(names[(week_start + i) % 7] for i in range(7))
