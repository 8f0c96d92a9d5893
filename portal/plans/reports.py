"""The monthly report's figures, from plain facts about a month's tickets and time.

Pure: the caller reads the tickets, their targets and first replies; this counts
them by category and target, tells met from breached, and takes the median
first response.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class TargetFact:
    """One SLA target of a ticket: when it was due, met and breached."""

    target: str
    due_at: datetime
    met_at: datetime | None
    breached_at: datetime | None


@dataclass(frozen=True)
class TicketFact:
    """One ticket opened in the month."""

    category: str
    opened_at: datetime
    first_response_at: datetime | None
    targets: tuple[TargetFact, ...]


@dataclass(frozen=True)
class TargetFigures:
    target: str
    met: int
    breached: int
    running: int

    @property
    def total(self) -> int:
        return self.met + self.breached + self.running


@dataclass(frozen=True)
class ReportFigures:
    tickets: int
    by_category: tuple[tuple[str, int], ...]
    by_target: tuple[TargetFigures, ...]
    median_first_response: timedelta | None
    answered: int


def target_outcome(fact: TargetFact, at: datetime) -> str:
    """``breached`` once its time ran out unmet (or it was met late), ``met`` when met in
    time, else ``running``."""
    if fact.breached_at is not None:
        return "breached"
    if fact.met_at is not None:
        return "met" if fact.met_at <= fact.due_at else "breached"
    return "breached" if fact.due_at <= at else "running"


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def figures(
    tickets: Iterable[TicketFact], at: datetime, target_order: Sequence[str] = ()
) -> ReportFigures:
    """The month's figures as of ``at``: tickets by category, each target's met, breached
    and running, and the median time to the first reply."""
    tickets = list(tickets)
    categories = Counter(t.category for t in tickets)
    outcomes: dict[str, Counter] = {}
    for ticket in tickets:
        for fact in ticket.targets:
            outcomes.setdefault(fact.target, Counter())[target_outcome(fact, at)] += 1
    order = {code: i for i, code in enumerate(target_order)}
    responses = [
        t.first_response_at - t.opened_at for t in tickets if t.first_response_at is not None
    ]
    return ReportFigures(
        tickets=len(tickets),
        by_category=tuple(sorted(categories.items(), key=lambda item: (-item[1], item[0]))),
        by_target=tuple(
            TargetFigures(code, c["met"], c["breached"], c["running"])
            for code, c in sorted(outcomes.items(), key=lambda i: (order.get(i[0], 99), i[0]))
        ),
        median_first_response=median(responses),
        answered=len(responses),
    )
