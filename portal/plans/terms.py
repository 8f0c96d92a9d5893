"""Terms (``7m``, ``budget:2027``, ``2y``) and the coverage they give from a start date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from portal.plans.errors import PlanError

MIN_BUDGET_YEAR, MAX_BUDGET_YEAR = 2000, 2100
_TERM = re.compile(r"^(?:(?P<months>\d{1,3})m|(?P<years>\d{1,2})y|budget:(?P<budget>\d{4}))$")


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True, order=True)
class Term:
    """A term of coverage: ``kind`` is ``months``, ``years`` or ``budget``.

    ``count`` is the number of months or years; for ``budget`` it is the year.
    """

    kind: str
    count: int

    @classmethod
    def parse(cls, code: str, field: str = "term") -> Term:
        """Parse a term code; months must be 1..12 and years 1..3."""
        match = _TERM.match(code.strip()) if isinstance(code, str) else None
        if not match:
            raise PlanError(
                "invalid_term",
                "'{value}' is not a term: use 1m..12m, 1y..3y or budget:YYYY",
                field,
                value=code,
            )
        if match["months"]:
            months = int(match["months"])
            if not 1 <= months <= 12:
                raise PlanError("invalid_term", "{value}: months must be 1..12", field, value=code)
            return cls("months", months)
        if match["years"]:
            years = int(match["years"])
            if not 1 <= years <= 3:
                raise PlanError("invalid_term", "{value}: years must be 1..3", field, value=code)
            return cls("years", years)
        year = int(match["budget"])
        if not MIN_BUDGET_YEAR <= year <= MAX_BUDGET_YEAR:
            raise PlanError(
                "invalid_term",
                "{value}: the budget year must be {first}..{last}",
                field,
                value=code,
                first=MIN_BUDGET_YEAR,
                last=MAX_BUDGET_YEAR,
            )
        return cls("budget", year)

    @classmethod
    def any_budget_year(cls) -> Term:
        """What a catalog offers with its ``budget`` price: the budget year of any year."""
        return cls("budget", 0)

    @property
    def code(self) -> str:
        if self.kind == "months":
            return f"{self.count}m"
        if self.kind == "years":
            return f"{self.count}y"
        return f"budget:{self.count}" if self.count else "budget:YYYY"

    @property
    def months(self) -> int | None:
        """Length in months for month and year terms; None for a budget year."""
        if self.kind == "months":
            return self.count
        if self.kind == "years":
            return self.count * 12
        return None

    def default_start(self, today: date) -> date:
        """Today, or for a budget year that has not begun, its January 1."""
        if self.kind == "budget":
            return max(today, date(self.count, 1, 1))
        return today

    def coverage(self, start: date) -> tuple[date, date]:
        """First and last covered day (inclusive) of this term starting on ``start``.

        ``Nm`` ends the day before ``start`` + N months; ``budget:YYYY`` ends on
        Dec 31 of YYYY and must start within that year.
        """
        if self.kind == "budget":
            if start.year != self.count:
                raise PlanError(
                    "start_outside_budget_year",
                    "A budget year {year} must start between {year}-01-01 and {year}-12-31",
                    "start",
                    year=self.count,
                )
            return start, date(self.count, 12, 31)
        try:
            return start, add_months(start, self.months) - timedelta(days=1)
        except (ValueError, OverflowError):
            raise PlanError(
                "invalid_date", "{value} is too far in the future", "start", value=start.isoformat()
            ) from None

    def __str__(self) -> str:
        return self.code
