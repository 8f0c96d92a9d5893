"""When periodic jobs run: every minute, every hour at a minute, or every day at a time (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Schedule:
    """A job's times in UTC, and the period each run stands for.

    The *slot* of a moment is the latest scheduled time not after it: a run for
    that slot happens once, whichever worker gets there first, and a worker that
    starts after a missed time makes good the slot still open.
    """

    period: timedelta
    minute: int = 0
    hour: int = 0

    @classmethod
    def every_minute(cls) -> Schedule:
        return cls(MINUTE)

    @classmethod
    def hourly(cls, minute: int = 0) -> Schedule:
        return cls(HOUR, minute=minute)

    @classmethod
    def daily(cls, hour: int, minute: int = 0) -> Schedule:
        return cls(DAY, minute=minute, hour=hour)

    def matches(self, moment: datetime) -> bool:
        """Whether a job is due in the minute of ``moment`` (UTC; naive is read as UTC),
        as Huey's scheduler asks once a minute."""
        if self.period == MINUTE:
            return True
        if self.period == HOUR:
            return moment.minute == self.minute
        return (moment.hour, moment.minute) == (self.hour, self.minute)

    def occurrence(self, moment: datetime) -> datetime:
        """The latest scheduled time at or before ``moment`` (aware), in UTC."""
        now = moment.astimezone(UTC).replace(second=0, microsecond=0)
        if self.period == MINUTE:
            return now
        if self.period == HOUR:
            time = now.replace(minute=self.minute)
        else:
            time = now.replace(hour=self.hour, minute=self.minute)
        return time if time <= now else time - self.period

    def next_after(self, moment: datetime) -> datetime:
        """The first scheduled time after ``moment``."""
        return self.occurrence(moment) + self.period

    def slot(self, moment: datetime) -> str:
        """The name of the period ``moment`` falls in: ``2026-12-02T06:00Z``."""
        return f"{self.occurrence(moment):%Y-%m-%dT%H:%MZ}"

    def words(self) -> str:
        """``every minute``, ``hourly at :17``, ``daily at 06:00 UTC``."""
        if self.period == MINUTE:
            return "every minute"
        if self.period == HOUR:
            return f"hourly at :{self.minute:02d}"
        return f"daily at {self.hour:02d}:{self.minute:02d} UTC"
