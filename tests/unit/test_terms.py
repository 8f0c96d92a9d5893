"""Terms (``7m``, ``2y``, ``budget:2027``) and the coverage they give from a start date."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import day

from portal.plans import PlanError, Term

PARSED = [
    pytest.param("1m", Term("months", 1), 1, id="1m is one month"),
    pytest.param("7m", Term("months", 7), 7, id="7m is seven months"),
    pytest.param("12m", Term("months", 12), 12, id="12m is twelve months"),
    pytest.param(" 3m ", Term("months", 3), 3, id="surrounding spaces are ignored"),
    pytest.param("1y", Term("years", 1), 12, id="1y is one year of 12 months"),
    pytest.param("2y", Term("years", 2), 24, id="2y is two years of 24 months"),
    pytest.param("3y", Term("years", 3), 36, id="3y is three years of 36 months"),
    pytest.param("budget:2027", Term("budget", 2027), None, id="budget:2027 is a calendar year"),
]


@pytest.mark.parametrize(("code", "term", "months"), PARSED)
def test_a_term_code_parses(code, term, months):
    parsed = Term.parse(code)

    assert parsed == term
    assert parsed.months == months
    assert parsed.code == code.strip()
    assert str(parsed) == code.strip()


NOT_TERMS = [
    pytest.param("13m", id="13m: months stop at 12"),
    pytest.param("0m", id="0m: months start at 1"),
    pytest.param("4y", id="4y: years stop at 3"),
    pytest.param("0y", id="0y: years start at 1"),
    pytest.param("budget:20x", id="budget:20x has no year"),
    pytest.param("budget:0000", id="budget:0000: there is no year 0"),
    pytest.param("budget:27", id="budget:27 has a two-digit year"),
    pytest.param("budget", id="budget alone names no year"),
    pytest.param("7M", id="7M is upper case"),
    pytest.param("1w", id="1w: weeks are not a term"),
    pytest.param("12", id="12 has no unit"),
    pytest.param("m", id="m has no count"),
    pytest.param("-1m", id="-1m is negative"),
    pytest.param("", id="an empty code"),
    pytest.param(None, id="no code at all"),
]


@pytest.mark.parametrize("code", NOT_TERMS)
def test_a_code_that_is_not_a_term_is_refused(code):
    with pytest.raises(PlanError) as caught:
        Term.parse(code, field="term")

    assert (caught.value.code, caught.value.field) == ("invalid_term", "term")


COVERAGE = [
    pytest.param("1m", "2027-01-15", "2027-02-14", id="1m from 2027-01-15 ends 2027-02-14"),
    pytest.param("12m", "2027-01-01", "2027-12-31", id="12m from Jan 1 ends Dec 31"),
    pytest.param("1m", "2027-12-15", "2028-01-14", id="1m from mid-December ends next year"),
    pytest.param(
        "1m",
        "2027-01-31",
        "2027-02-27",
        id="1m from 2027-01-31 ends 2027-02-27: Jan 31 + 1 month clamps to Feb 28",
    ),
    pytest.param(
        "1m",
        "2028-01-31",
        "2028-02-28",
        id="1m from 2028-01-31 ends 2028-02-28: in a leap year it clamps to Feb 29",
    ),
    pytest.param(
        "1m", "2027-03-31", "2027-04-29", id="1m from Mar 31 ends Apr 29: Apr 30 is the clamp"
    ),
    pytest.param(
        "6m",
        "2027-08-31",
        "2028-02-28",
        id="6m from 2027-08-31 ends 2028-02-28: the leap day is the clamp",
    ),
    pytest.param("1m", "2028-02-29", "2028-03-28", id="1m from the leap day ends 2028-03-28"),
    pytest.param("1m", "2027-02-28", "2027-03-27", id="1m from 2027-02-28 ends 2027-03-27"),
    pytest.param(
        "12m",
        "2028-02-29",
        "2029-02-27",
        id="12m from the leap day ends 2029-02-27: 2029 has no Feb 29",
    ),
    pytest.param("1y", "2027-03-21", "2028-03-20", id="1y from 2027-03-21 ends 2028-03-20"),
    pytest.param("2y", "2027-03-21", "2029-03-20", id="2y from 2027-03-21 ends 2029-03-20"),
    pytest.param("3y", "2027-03-21", "2030-03-20", id="3y from 2027-03-21 ends 2030-03-20"),
    pytest.param("1y", "2027-01-01", "2027-12-31", id="1y from Jan 1 ends Dec 31"),
    pytest.param("1y", "2024-02-29", "2025-02-27", id="1y from the leap day 2024 ends 2025-02-27"),
    pytest.param(
        "budget:2027", "2027-01-01", "2027-12-31", id="budget:2027 from Jan 1 ends Dec 31"
    ),
    pytest.param("budget:2027", "2027-06-15", "2027-12-31", id="budget:2027 from June ends Dec 31"),
    pytest.param(
        "budget:2027", "2027-12-31", "2027-12-31", id="budget:2027 from Dec 31 is one day"
    ),
    pytest.param(
        "budget:2028", "2028-02-29", "2028-12-31", id="budget:2028 from the leap day ends Dec 31"
    ),
]


@pytest.mark.parametrize(("code", "start", "end"), COVERAGE)
def test_coverage_of_a_term(code, start, end):
    assert Term.parse(code).coverage(day(start)) == (day(start), day(end))


@pytest.mark.parametrize(
    "start",
    [
        pytest.param("2026-12-31", id="budget:2027 cannot start the day before its year"),
        pytest.param("2028-01-01", id="budget:2027 cannot start the day after its year"),
    ],
)
def test_a_budget_year_starts_within_its_year(start):
    with pytest.raises(PlanError) as caught:
        Term.parse("budget:2027").coverage(day(start))

    assert (caught.value.code, caught.value.field) == ("start_outside_budget_year", "start")


DEFAULT_START = [
    pytest.param("budget:2027", date(2026, 11, 22), "2027-01-01", id="a future budget year: Jan 1"),
    pytest.param(
        "budget:2027", date(2027, 5, 5), "2027-05-05", id="the current budget year: today"
    ),
    pytest.param("7m", date(2026, 11, 22), "2026-11-22", id="months start today"),
    pytest.param("1y", date(2026, 11, 22), "2026-11-22", id="years start today"),
]


@pytest.mark.parametrize(("code", "today", "start"), DEFAULT_START)
def test_default_start_of_a_term(code, today, start):
    assert Term.parse(code).default_start(today) == day(start)
