"""Calendars as real offices keep them: a lunch break, other hours on a weekday, dated
exceptions, the shortened day before a Russian public holiday, and deadlines that never print
an offset their zone does not have.

The calendar `lunch` below (Europe/Moscow, +03:00 all year): Monday to Friday 09:00-13:00 and
14:00-18:00 (an 8-hour nominal day), Fridays 09:00-16:00, Russian holidays, the day before a
public holiday an hour shorter; 2027-01-15 (a Friday) closed, Saturday 2027-01-16 an extra
working day 10:00-14:00, Wednesday 2027-01-20 open 12:00-15:00 only. Russian holidays used:
2027-01-01..08 New Year, Tuesday 2027-02-23 (Monday 2027-02-22 a day off swapped with
Saturday 2027-02-20, which is worked), Monday 2027-03-08.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import catalog_text, moment, row

from portal.plans import CatalogError
from portal.plans.loading import parse_catalog
from portal.plans.sla import add_working_time, day_hours

OFFICE = """
[calendars.lunch]
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-13:00, 14:00-18:00"
holidays = "RU"
shortened_before_holidays = { hours = 1 }
timezone = "Europe/Moscow"
[calendars.lunch.weekday_hours]
fri = "09:00-16:00"
[calendars.lunch.exceptions]
2027-01-15 = "closed"
2027-01-16 = "10:00-14:00"
2027-01-20 = "12:00-15:00"

[calendars.night]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
hours = "00:00-23:59"
timezone = "Europe/Kyiv"
"""


def office_catalog():
    text = catalog_text("kvartplata").replace("[callback]", OFFICE + "\n[callback]", 1)
    return parse_catalog(text, source="kvartplata.toml")


CALENDARS = office_catalog().calendars
OFFICE_CALENDAR, NIGHT = CALENDARS["lunch"], CALENDARS["night"]

# sentence: row(opened, working time, due)
DUE = {
    "an hour from 12:30 crosses the lunch break: due 14:30": row(
        "2027-01-11T12:30:00+03:00", timedelta(hours=1), "2027-01-11T14:30:00+03:00"
    ),
    "opened at lunch, an hour counts from 14:00": row(
        "2027-01-11T13:20:00+03:00", timedelta(hours=1), "2027-01-11T15:00:00+03:00"
    ),
    "a span that uses up the morning ends at 13:00, not 14:00": row(
        "2027-01-11T12:00:00+03:00", timedelta(hours=1), "2027-01-11T13:00:00+03:00"
    ),
    "one working day is the nominal 8 hours: Monday 09:00 is due Monday 18:00": row(
        "2027-01-11T09:00:00+03:00", timedelta(hours=8), "2027-01-11T18:00:00+03:00"
    ),
    "Friday closes at 16:00: two hours from Thursday 17:00 end Friday 10:00": row(
        "2027-01-21T17:00:00+03:00", timedelta(hours=2), "2027-01-22T10:00:00+03:00"
    ),
    "a dated closure on Friday: Thursday 17:00 plus two hours ends on the extra Saturday": row(
        "2027-01-14T17:00:00+03:00", timedelta(hours=2), "2027-01-16T11:00:00+03:00"
    ),
    "a day with other hours: Wednesday opens at 12:00": row(
        "2027-01-20T08:00:00+03:00", timedelta(hours=2), "2027-01-20T14:00:00+03:00"
    ),
    "the eve of the New Year holidays: from Wednesday 2026-12-30 17:00, due Monday the 11th": row(
        # 2026-12-30 is the day before 2026-12-31, a day off swapped by decree, not a holiday:
        # it is not shortened. Then January 1-8 and the weekend are off.
        "2026-12-30T17:00:00+03:00",
        timedelta(hours=2),
        "2027-01-11T10:00:00+03:00",
    ),
    "Friday 2027-03-05 keeps its hours: the day before Women's Day is a Sunday": row(
        "2027-03-05T15:00:00+03:00", timedelta(hours=1), "2027-03-05T16:00:00+03:00"
    ),
    "the worked Saturday 2027-02-20 before the swapped Monday keeps its regular hours": row(
        "2027-02-20T17:00:00+03:00", timedelta(hours=1), "2027-02-20T18:00:00+03:00"
    ),
    "40 hours from Monday 09:00: 32 to Thursday, 7 on Friday, the last on Monday": row(
        "2027-02-01T09:00:00+03:00", timedelta(hours=40), "2027-02-08T10:00:00+03:00"
    ),
}


@pytest.mark.parametrize(("opened", "span", "due"), DUE.values(), ids=DUE)
def test_working_time_keeps_the_office_hours(opened, span, due):
    result = add_working_time(OFFICE_CALENDAR, moment(opened), span)
    assert result.isoformat() == due


# sentence: row(day, the intervals that day)
DAYS = {
    "a regular Monday has the lunch break": row(
        "2027-01-11", (("09:00", "13:00"), ("14:00", "18:00"))
    ),
    "a Friday has its own hours": row("2027-01-22", (("09:00", "16:00"),)),
    "the dated closure": row("2027-01-15", ()),
    "the extra Saturday": row("2027-01-16", (("10:00", "14:00"),)),
    "a Sunday": row("2027-01-17", ()),
    "a New Year holiday": row("2027-01-05", ()),
    "the worked Saturday before the swapped Monday, on the regular hours": row(
        "2027-02-20", (("09:00", "13:00"), ("14:00", "18:00"))
    ),
    "the swapped Monday 2027-02-22": row("2027-02-22", ()),
    "Wednesday 2027-11-03, before National Unity Day, an hour shorter": row(
        "2027-11-03", (("09:00", "13:00"), ("14:00", "17:00"))
    ),
}


@pytest.mark.parametrize(("day", "hours"), DAYS.values(), ids=DAYS)
def test_a_days_hours(day, hours):
    got = day_hours(OFFICE_CALENDAR, moment(day + "T12:00:00+03:00").date())
    assert tuple((f"{o:%H:%M}", f"{c:%H:%M}") for o, c in got) == hours


def test_the_nominal_working_day_is_the_regular_days_intervals():
    assert OFFICE_CALENDAR.working_day == timedelta(hours=8)


def test_a_deadline_in_a_spring_forward_gap_has_the_offset_the_zone_has_then():
    # Kyiv skips 03:00-04:00 on Sunday 2027-03-28: 02:45 plus 30 minutes of wall-clock
    # working time would read 03:15, which does not exist there: it is 04:15 at +03:00.
    due = add_working_time(NIGHT, moment("2027-03-28T02:45:00+02:00"), timedelta(minutes=30))
    assert due.isoformat() == "2027-03-28T04:15:00+03:00"
    assert due.utcoffset() == timedelta(hours=3)


def test_kbs_reaction_opened_on_the_friday_before_the_autumn_change_is_due_monday():
    # Kyiv goes back from +03:00 to +02:00 on Sunday 2027-10-31: the deadline carries +02:00.
    kbs = parse_catalog(catalog_text("kbs"), source="kbs.toml")
    due = add_working_time(
        kbs.calendars["office"], moment("2027-10-29T16:30:00+03:00"), timedelta(hours=4)
    )
    assert due.isoformat() == "2027-11-01T11:30:00+02:00"


# sentence: row(text to replace, replacement, exact message)
BROKEN = {
    "overlapping intervals": row(
        'hours = "09:00-13:00, 14:00-18:00"',
        'hours = "09:00-13:00, 12:00-18:00"',
        "kvartplata.toml: calendars.lunch.hours: '09:00-13:00, 12:00-18:00': intervals must be "
        "in order and not overlap",
    ),
    "an interval closing before it opens": row(
        'fri = "09:00-16:00"',
        'fri = "16:00-09:00"',
        "kvartplata.toml: calendars.lunch.weekday_hours.fri: '16:00-09:00' must be HH:MM-HH:MM "
        "with opening before closing",
    ),
    "hours for a weekday that is not worked": row(
        'fri = "09:00-16:00"',
        'sat = "09:00-16:00"',
        "kvartplata.toml: calendars.lunch.weekday_hours.sat: is not among the calendar's days",
    ),
    "an exception on no date": row(
        '2027-01-15 = "closed"',
        '2027-02-30 = "closed"',
        "kvartplata.toml: calendars.lunch.exceptions.2027-02-30: a dated exception is YYYY-MM-DD",
    ),
    "an exception that is neither closed nor hours": row(
        '2027-01-15 = "closed"',
        '2027-01-15 = "shut"',
        "kvartplata.toml: calendars.lunch.exceptions.2027-01-15: 'shut' must be HH:MM-HH:MM "
        "with opening before closing",
    ),
    "a shortening as long as the day": row(
        "shortened_before_holidays = { hours = 1 }\ntimezone",
        "shortened_before_holidays = { hours = 8 }\ntimezone",
        "kvartplata.toml: calendars.lunch.shortened_before_holidays: must be shorter than the "
        "working day",
    ),
    "a shortening in working days": row(
        "shortened_before_holidays = { hours = 1 }\ntimezone",
        "shortened_before_holidays = { working_days = 1 }\ntimezone",
        "kvartplata.toml: calendars.lunch.shortened_before_holidays: is given in minutes or hours",
    ),
    "a shortening without holidays": row(
        'holidays = "RU"\nshortened_before_holidays = { hours = 1 }\ntimezone',
        "shortened_before_holidays = { hours = 1 }\ntimezone",
        "kvartplata.toml: calendars.lunch.shortened_before_holidays: needs a holidays country",
    ),
    "a call-back promise under a second": row(
        "within = { working_hours = 1 }",
        "within = { working_minutes = 0.001 }",
        "kvartplata.toml: callback.within.working_minutes: is under one second",
    ),
}


@pytest.mark.parametrize(("old", "new", "message"), BROKEN.values(), ids=BROKEN)
def test_a_broken_calendar_is_reported_where_it_is_broken(old, new, message):
    text = catalog_text("kvartplata").replace("[callback]", OFFICE + "\n[callback]", 1)
    assert old in text, "the case no longer matches"
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text.replace(old, new, 1), source="kvartplata.toml")
    assert str(caught.value) == message


def test_an_sla_target_of_a_thousandth_of_a_working_day_is_refused_at_load():
    text = catalog_text("kbs").replace(
        "reaction = { working_days = 1 }", "reaction = { working_days = 0.000001 }", 1
    )
    assert text != catalog_text("kbs")
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, source="kbs.toml")
    assert str(caught.value).endswith("is under one second")
