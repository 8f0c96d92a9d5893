"""When periodic jobs run, and which period a run stands for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from portal.jobs.schedule import Schedule

EVERY_MINUTE = Schedule.every_minute()
HOURLY_AT_35 = Schedule.hourly(35)
DAILY_AT_6 = Schedule.daily(6, 0)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "moment", "slot"),
    [
        pytest.param(
            EVERY_MINUTE, "2026-12-02 10:04:59", "2026-12-02T10:04Z", id="a minute is its own slot"
        ),
        pytest.param(
            HOURLY_AT_35, "2026-12-02 10:35:00", "2026-12-02T10:35Z", id="hourly: at its minute"
        ),
        pytest.param(
            HOURLY_AT_35,
            "2026-12-02 10:34:59",
            "2026-12-02T09:35Z",
            id="hourly: before it, the hour before",
        ),
        pytest.param(
            DAILY_AT_6, "2026-12-02 06:00:00", "2026-12-02T06:00Z", id="daily: at its time"
        ),
        pytest.param(
            DAILY_AT_6,
            "2026-12-02 05:59:00",
            "2026-12-01T06:00Z",
            id="daily: before it, yesterday's",
        ),
        pytest.param(
            DAILY_AT_6,
            "2026-12-02 23:00:00",
            "2026-12-02T06:00Z",
            id="daily: late in the day, today's",
        ),
        pytest.param(
            DAILY_AT_6, "2027-01-01 01:00:00", "2026-12-31T06:00Z", id="daily: over a year's end"
        ),
    ],
)
def test_a_run_stands_for_the_latest_scheduled_time_before_it(schedule, moment, slot):
    assert schedule.slot(utc(moment)) == slot


def test_the_slot_is_the_same_in_any_time_zone():
    kyiv = datetime(2026, 12, 2, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    assert DAILY_AT_6.slot(kyiv) == DAILY_AT_6.slot(utc("2026-12-02 06:30:00"))


@pytest.mark.parametrize(
    ("schedule", "moment", "due"),
    [
        pytest.param(EVERY_MINUTE, "2026-12-02 10:04:00", True, id="every minute is due"),
        pytest.param(HOURLY_AT_35, "2026-12-02 10:35:00", True, id="hourly at its minute"),
        pytest.param(HOURLY_AT_35, "2026-12-02 10:36:00", False, id="hourly, not the minute after"),
        pytest.param(DAILY_AT_6, "2026-12-02 06:00:30", True, id="daily within its minute"),
        pytest.param(DAILY_AT_6, "2026-12-02 07:00:00", False, id="daily, not an hour later"),
    ],
)
def test_huey_asks_once_a_minute_whether_a_job_is_due(schedule, moment, due):
    # Huey passes naive UTC times.
    assert schedule.matches(datetime.fromisoformat(moment)) is due


@pytest.mark.parametrize(
    ("schedule", "words", "period"),
    [
        (EVERY_MINUTE, "every minute", timedelta(minutes=1)),
        (HOURLY_AT_35, "hourly at :35", timedelta(hours=1)),
        (DAILY_AT_6, "daily at 06:00 UTC", timedelta(days=1)),
    ],
)
def test_a_schedule_says_itself_in_words(schedule, words, period):
    assert (schedule.words(), schedule.period) == (words, period)


def test_the_next_run_follows_the_slot_by_one_period():
    assert DAILY_AT_6.next_after(utc("2026-12-02 05:00:00")) == utc("2026-12-02 06:00:00")
    assert DAILY_AT_6.next_after(utc("2026-12-02 06:00:00")) == utc("2026-12-03 06:00:00")
