"""SLA deadlines, computed by hand from REFERENCE-TARIFFS.md and the `holidays` package.

Calendars (from the reference):
- kbs office: Europe/Kyiv, Mon-Fri 09:00-18:00 (9-hour day), Ukrainian holidays. The package
  lists no Ukrainian holiday for 2027 (martial law), so holiday cases use 2021: Jan 7-8 and
  Aug 23-24 off, Saturdays Jan 16 and Aug 28 decreed working days.
- iiko contract: Asia/Omsk (+06:00), Mon-Fri 09:00-18:00; one-off: Mon-Fri 10:00-17:00 (7 hours);
  Russian holidays: 2026-12-31 and 2027-01-01..08 off, Sat 2027-02-20 worked with Feb 22-23
  off, Sat 2025-11-01 worked with Nov 3-4 off.
- iotex office: Asia/Tehran (+03:30), Saturday to Wednesday 09:00-17:00 (8 hours), Iranian
  holidays: 2027-01-06, 2027-03-20, Nowruz 2027-03-21..24.
- crystals: everything on the 24/7 clock, answered in Europe/Moscow (+03:00).
Europe/Kyiv moves from +02:00 to +03:00 on Sunday 2027-03-28 and back on Sunday 2027-10-31.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
from conftest import catalog, moment, row

from portal.plans import PlanError, due_at

KBS_REACTION = {  # target `reaction`: prof 2 working days, optima 1, premium 4 working hours
    "optima opened Mon 09:00 is due Mon 18:00, not Tue 09:00": row(
        "optima", "2027-01-18T09:00:00+02:00", "2027-01-18T18:00:00+02:00"
    ),
    "optima opened Mon 10:17:43 is due Tue 10:17:43, seconds kept": row(
        "optima", "2027-01-18T10:17:43+02:00", "2027-01-19T10:17:43+02:00"
    ),
    "optima opened Fri 15:00 skips the weekend: due Mon 15:00": row(
        "optima", "2027-01-22T15:00:00+02:00", "2027-01-25T15:00:00+02:00"
    ),
    "optima opened on Saturday starts Monday 09:00: due Mon 18:00": row(
        "optima", "2027-01-23T11:00:00+02:00", "2027-01-25T18:00:00+02:00"
    ),
    "optima opened at night starts at 09:00: due the same day 18:00": row(
        "optima", "2027-01-19T02:00:00+02:00", "2027-01-19T18:00:00+02:00"
    ),
    "optima opened after closing starts the next morning: due Wed 18:00": row(
        "optima", "2027-01-19T19:30:00+02:00", "2027-01-20T18:00:00+02:00"
    ),
    "optima opened a second before opening is due at 18:00:00 that day": row(
        "optima", "2027-01-20T08:59:59+02:00", "2027-01-20T18:00:00+02:00"
    ),
    "optima opened exactly at closing is due the next day 18:00": row(
        "optima", "2027-01-21T18:00:00+02:00", "2027-01-22T18:00:00+02:00"
    ),
    "premium 4 working hours opened Fri 14:00 are due Fri 18:00 exactly": row(
        "premium", "2027-01-22T14:00:00+02:00", "2027-01-22T18:00:00+02:00"
    ),
    "premium 4 working hours opened Fri 16:30 are due Mon 11:30": row(
        "premium", "2027-01-22T16:30:00+02:00", "2027-01-25T11:30:00+02:00"
    ),
    "prof 2 working days opened Mon 09:00 are due Tue 18:00": row(
        "prof", "2027-01-18T09:00:00+02:00", "2027-01-19T18:00:00+02:00"
    ),
    "prof 2 working days opened Fri 17:00 are due Tue 17:00": row(
        "prof", "2027-01-22T17:00:00+02:00", "2027-01-26T17:00:00+02:00"
    ),
    # Answers are in Kyiv time whatever the offset of the opened time.
    "optima opened 07:00 UTC (09:00 in Kyiv) is due 18:00+02:00": row(
        "optima", "2027-01-18T07:00:00Z", "2027-01-18T18:00:00+02:00"
    ),
    "optima opened 13:30 UTC (15:30 in Kyiv) is due Tue 15:30+02:00": row(
        "optima", "2027-01-18T13:30:00Z", "2027-01-19T15:30:00+02:00"
    ),
    "optima opened 08:00+06:00 (04:00 in Kyiv) is due 18:00+02:00": row(
        "optima", "2027-01-18T08:00:00+06:00", "2027-01-18T18:00:00+02:00"
    ),
    # The clocks go forward on Sunday 2027-03-28 and back on Sunday 2027-10-31.
    "optima opened Fri 15:00+02:00 before summer time is due Mon 15:00+03:00": row(
        "optima", "2027-03-26T15:00:00+02:00", "2027-03-29T15:00:00+03:00"
    ),
    "premium opened Fri 16:00+02:00 before summer time is due Mon 11:00+03:00": row(
        "premium", "2027-03-26T16:00:00+02:00", "2027-03-29T11:00:00+03:00"
    ),
    "optima opened Sat night before the clocks go forward is due Mon 18:00+03:00": row(
        "optima", "2027-03-27T23:00:00+02:00", "2027-03-29T18:00:00+03:00"
    ),
    "optima opened Fri 12:00+03:00 before winter time is due Mon 12:00+02:00": row(
        "optima", "2027-10-29T12:00:00+03:00", "2027-11-01T12:00:00+02:00"
    ),
    "prof opened Fri 12:00+03:00 before winter time is due Tue 12:00+02:00": row(
        "prof", "2027-10-29T12:00:00+03:00", "2027-11-02T12:00:00+02:00"
    ),
    # Ukrainian holidays and decreed working Saturdays of 2021.
    "optima opened Wed 2021-01-06 17:00 skips Christmas Jan 7-8: due Mon 17:00": row(
        "optima", "2021-01-06T17:00:00+02:00", "2021-01-11T17:00:00+02:00"
    ),
    "optima opened Fri 2021-01-15 at closing is due on the working Sat 18:00": row(
        "optima", "2021-01-15T18:00:00+02:00", "2021-01-16T18:00:00+02:00"
    ),
    "optima opened Fri 2021-08-27 14:00 is due on the working Sat 2021-08-28 14:00": row(
        "optima", "2021-08-27T14:00:00+03:00", "2021-08-28T14:00:00+03:00"
    ),
    "optima opened on the working Sat 2021-08-28 10:00 is due Mon 10:00": row(
        "optima", "2021-08-28T10:00:00+03:00", "2021-08-30T10:00:00+03:00"
    ),
    "prof opened Fri 2021-08-20 17:00 skips Aug 23-24: due Thu 17:00": row(
        "prof", "2021-08-20T17:00:00+03:00", "2021-08-26T17:00:00+03:00"
    ),
}

IIKO_WORKING = {  # Omsk; contract 09:00-18:00, one-off 10:00-17:00; Russian holidays
    "contract critical (2 days) opened 2026-12-30 15:00 skips New Year: Jan 12 15:00": row(
        "contract", "critical", "2026-12-30T15:00:00+06:00", "2027-01-12T15:00:00+06:00"
    ),
    "one-off minor (7 days of 7 hours) opened 2026-12-30 16:00: Jan 19 16:00": row(
        "one-off", "minor", "2026-12-30T16:00:00+06:00", "2027-01-19T16:00:00+06:00"
    ),
    "contract critical opened Fri 2027-02-19 17:00 works Sat 20, skips 22-23: Wed 17:00": row(
        "contract", "critical", "2027-02-19T17:00:00+06:00", "2027-02-24T17:00:00+06:00"
    ),
    "contract critical opened Fri 2025-10-31 16:00 works Sat Nov 1, skips 3-4: Wed 16:00": row(
        "contract", "critical", "2025-10-31T16:00:00+06:00", "2025-11-05T16:00:00+06:00"
    ),
    "contract important (3 days) opened early on the working Sat 2025-11-01: Thu 18:00": row(
        "contract", "important", "2025-11-01T08:00:00+06:00", "2025-11-06T18:00:00+06:00"
    ),
    "one-off critical (3 days) opened before its 10:00 opening: due Wed 17:00": row(
        "one-off", "critical", "2027-01-18T09:00:00+06:00", "2027-01-20T17:00:00+06:00"
    ),
    "one-off important (5 days) opened on the Feb 22 holiday starts Wed 24: Mar 2 17:00": row(
        "one-off", "important", "2027-02-22T12:00:00+06:00", "2027-03-02T17:00:00+06:00"
    ),
}

# Tehran, Saturday to Wednesday 09:00-17:00; first response: basic 8 h, standard 4, premium 2.
IOTEX_FIRST_RESPONSE = {
    "premium opened Wed 16:00 skips Thursday and Friday: due Sat 10:00": row(
        "premium", "2027-01-13T16:00:00+03:30", "2027-01-16T10:00:00+03:30"
    ),
    "premium opened on Friday starts Saturday 09:00: due Sat 11:00": row(
        "premium", "2027-01-15T12:00:00+03:30", "2027-01-16T11:00:00+03:30"
    ),
    "premium opened Sunday 09:00, a working day, is due Sunday 11:00": row(
        "premium", "2027-01-17T09:00:00+03:30", "2027-01-17T11:00:00+03:30"
    ),
    "basic opened on Thursday is due Saturday 17:00 exactly": row(
        "basic", "2027-01-14T10:00:00+03:30", "2027-01-16T17:00:00+03:30"
    ),
    "standard opened Tue 15:00 skips the Wed Jan 6 holiday: due Sat 11:00": row(
        "standard", "2027-01-05T15:00:00+03:30", "2027-01-09T11:00:00+03:30"
    ),
    "basic opened Wed 2027-03-17 16:00 skips Mar 20 and Nowruz: due Sat Mar 27 16:00": row(
        "basic", "2027-03-17T16:00:00+03:30", "2027-03-27T16:00:00+03:30"
    ),
    "standard opened Sat 10:17:43 is due 14:17:43, seconds kept": row(
        "standard", "2027-01-16T10:17:43+03:30", "2027-01-16T14:17:43+03:30"
    ),
    "premium opened 05:30 UTC (09:00 in Tehran) is due 11:00+03:30": row(
        "premium", "2027-01-16T05:30:00Z", "2027-01-16T11:00:00+03:30"
    ),
}

WORKING = (
    [
        pytest.param("kbs", plan, "reaction", opened, due, id=f"kbs {sentence}")
        for sentence, (plan, opened, due) in KBS_REACTION.items()
    ]
    + [
        pytest.param("iiko", plan, target, opened, due, id=f"iiko {sentence}")
        for sentence, (plan, target, opened, due) in IIKO_WORKING.items()
    ]
    + [
        pytest.param("iotex", plan, "first-response", opened, due, id=f"iotex {sentence}")
        for sentence, (plan, opened, due) in IOTEX_FIRST_RESPONSE.items()
    ]
)


@pytest.mark.parametrize(("catalog_name", "plan", "target", "opened", "due"), WORKING)
def test_working_time_deadline(catalog_name, plan, target, opened, due):
    answer = due_at(catalog(catalog_name), plan, target, moment(opened))

    assert answer.due.isoformat() == due
    assert answer.clock == "working"
    assert answer.expected is None


CRYSTALS_GARANT = {  # 24/7, answered in Moscow time
    "registration (15 min) on New Year's night keeps the seconds": row(
        "registration", "2027-01-01T23:50:30+03:00", "2027-01-02T00:05:30+03:00"
    ),
    "registration opened 21:50 UTC is due 01:05 Moscow time": row(
        "registration", "2027-06-01T21:50:00Z", "2027-06-02T01:05:00+03:00"
    ),
    "restore (4 h) runs through a Saturday night holiday": row(
        "restore", "2027-01-02T22:00:00+03:00", "2027-01-03T02:00:00+03:00"
    ),
    "critical-process is 2 h": row(
        "critical-process", "2027-01-15T10:17:43+03:00", "2027-01-15T12:17:43+03:00"
    ),
    "server is 3 h": row("server", "2027-01-15T10:17:43+03:00", "2027-01-15T13:17:43+03:00"),
    "erp-discrepancy is 36 h": row(
        "erp-discrepancy", "2027-01-15T10:00:00+03:00", "2027-01-16T22:00:00+03:00"
    ),
    "erp-discrepancy opened in Kyiv before summer time is 36 elapsed hours": row(
        "erp-discrepancy", "2027-03-27T12:00:00+02:00", "2027-03-29T01:00:00+03:00"
    ),
    "fix-eta is 3 days": row("fix-eta", "2027-01-15T10:00:00+03:00", "2027-01-18T10:00:00+03:00"),
    "fix-eta opened in Kyiv before winter time is 72 elapsed hours": row(
        "fix-eta", "2027-10-29T18:00:00+03:00", "2027-11-01T18:00:00+03:00"
    ),
}

IIKO_BLOCKING = {  # 24/7 ranges: contract 1.5-2.5 h, one-off 4-5 h; (plan, opened, expected, due)
    "contract opened 10:17:43: expected 11:47:43, due 12:47:43": row(
        "contract",
        "2027-01-15T10:17:43+06:00",
        "2027-01-15T11:47:43+06:00",
        "2027-01-15T12:47:43+06:00",
    ),
    "contract opened 04:00 UTC: expected 11:30, due 12:30 Omsk time": row(
        "contract", "2027-01-15T04:00:00Z", "2027-01-15T11:30:00+06:00", "2027-01-15T12:30:00+06:00"
    ),
    "one-off opened on a holiday night: expected 03:30, due 04:30": row(
        "one-off",
        "2027-01-02T23:30:00+06:00",
        "2027-01-03T03:30:00+06:00",
        "2027-01-03T04:30:00+06:00",
    ),
    "one-off opened Mon 10:00: expected 14:00, due 15:00": row(
        "one-off",
        "2027-01-18T10:00:00+06:00",
        "2027-01-18T14:00:00+06:00",
        "2027-01-18T15:00:00+06:00",
    ),
}

ROUND_THE_CLOCK = [
    pytest.param("crystals", "garant", target, opened, None, due, id=f"crystals {sentence}")
    for sentence, (target, opened, due) in CRYSTALS_GARANT.items()
] + [
    pytest.param("iiko", plan, "blocking", opened, expected, due, id=f"iiko blocking {sentence}")
    for sentence, (plan, opened, expected, due) in IIKO_BLOCKING.items()
]


@pytest.mark.parametrize(
    ("catalog_name", "plan", "target", "opened", "expected", "due"), ROUND_THE_CLOCK
)
def test_round_the_clock_deadline(catalog_name, plan, target, opened, expected, due):
    answer = due_at(catalog(catalog_name), plan, target, moment(opened))

    assert answer.due.isoformat() == due
    assert (None if answer.expected is None else answer.expected.isoformat()) == expected
    assert answer.clock == "24/7"


KYIV = ZoneInfo("Europe/Kyiv")

ZONE_AWARE = [
    pytest.param(
        datetime(2027, 3, 27, 12, 0, tzinfo=KYIV),
        "2027-03-29T01:00:00+03:00",
        id="36 h from Sat 12:00 Kyiv time (a zone, not an offset) across the spring change",
    ),
    pytest.param(
        datetime(2027, 10, 30, 12, 0, tzinfo=KYIV),
        "2027-11-01T00:00:00+03:00",
        id="36 h from Sat 12:00 Kyiv time (a zone, not an offset) across the autumn change",
    ),
]


@pytest.mark.parametrize(("opened", "due"), ZONE_AWARE)
def test_round_the_clock_counts_elapsed_hours_when_opened_carries_a_time_zone(opened, due):
    # 2027-03-27 12:00 in Kyiv is 10:00 UTC; 36 elapsed hours later it is 2027-03-28 22:00 UTC.
    # 2027-10-30 12:00 in Kyiv is 09:00 UTC; 36 elapsed hours later it is 2027-10-31 21:00 UTC.
    answer = due_at(catalog("crystals"), "garant", "erp-discrepancy", opened)

    assert answer.due.isoformat() == due


def test_the_holiday_facts_used_above_are_those_of_the_holidays_package():
    ukraine_2021 = holidays.country_holidays("UA", years=2021)
    russia_2025 = holidays.country_holidays("RU", years=2025)
    russia_2026 = holidays.country_holidays("RU", years=2026)
    russia_2027 = holidays.country_holidays("RU", years=2027)
    iran_2027 = holidays.country_holidays("IR", years=2027)

    assert {"2021-01-07", "2021-01-08", "2021-08-23", "2021-08-24"} <= {
        d.isoformat() for d in ukraine_2021
    }
    assert {"2021-01-16", "2021-08-28"} <= {d.isoformat() for d in ukraine_2021.weekend_workdays}
    assert "2025-11-01" in {d.isoformat() for d in russia_2025.weekend_workdays}
    assert {"2025-11-03", "2025-11-04"} <= {d.isoformat() for d in russia_2025}
    assert "2026-12-31" in {d.isoformat() for d in russia_2026}
    assert {f"2027-01-0{n}" for n in range(1, 9)} <= {d.isoformat() for d in russia_2027}
    assert "2027-02-20" in {d.isoformat() for d in russia_2027.weekend_workdays}
    assert {"2027-02-22", "2027-02-23"} <= {d.isoformat() for d in russia_2027}
    assert {"2027-01-06", "2027-03-20", "2027-03-21", "2027-03-24"} <= {
        d.isoformat() for d in iran_2027
    }
    assert not {"2027-01-16", "2027-01-17", "2027-03-27"} & {d.isoformat() for d in iran_2027}


BAD_CLOCK_QUESTIONS = [
    pytest.param(
        "kbs",
        "gold",
        "reaction",
        moment("2027-01-18T09:00:00+02:00"),
        "unknown_plan",
        "plan",
        id="an unknown plan",
    ),
    pytest.param(
        "kbs",
        "optima",
        "blocking",
        moment("2027-01-18T09:00:00+02:00"),
        "unknown_target",
        "target",
        id="a target the plan does not have",
    ),
    pytest.param(
        "kbs",
        "optima",
        "reaction",
        datetime(2027, 1, 18, 9),
        "invalid_datetime",
        "opened",
        id="an opened time without a UTC offset",
    ),
]


@pytest.mark.parametrize(
    ("catalog_name", "plan", "target", "opened", "code", "field"), BAD_CLOCK_QUESTIONS
)
def test_a_bad_clock_question_is_a_plan_error(catalog_name, plan, target, opened, code, field):
    with pytest.raises(PlanError) as caught:
        due_at(catalog(catalog_name), plan, target, opened)

    assert (caught.value.code, caught.value.field) == (code, field)


@pytest.mark.parametrize(
    ("catalog_name", "plan", "target", "opened"),
    [
        pytest.param(
            "kbs",
            "optima",
            "reaction",
            "9999-12-31T10:00:00+02:00",
            id="a working-time deadline after the last day of the calendar",
        ),
        pytest.param(
            "crystals",
            "garant",
            "fix-eta",
            "9999-12-30T10:00:00+03:00",
            id="a 24/7 deadline after the last day of the calendar",
        ),
        pytest.param(
            "kbs",
            "optima",
            "reaction",
            "0001-01-01T01:00:00+14:00",
            id="an opened time before the first day of the calendar",
        ),
    ],
)
def test_an_opened_time_at_the_edge_of_the_calendar_is_a_plan_error(
    catalog_name, plan, target, opened
):
    # The JSON API passes a user's `opened` straight to the clock: a 4xx, never a 500.
    with pytest.raises(PlanError) as caught:
        due_at(catalog(catalog_name), plan, target, moment(opened))

    assert caught.value.field == "opened"
