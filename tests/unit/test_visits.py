"""The engine's on-site visits: blocks on a technician's calendar, free slots of a week, the
contract year's quota, the price before booking, and the dispatch order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from conftest import catalog, catalog_text, money, row

from portal.plans import CatalogError, PlanError
from portal.plans.loading import parse_catalog
from portal.plans.visits import (
    AREA,
    OUT_OF_TOWN,
    TechnicianTime,
    contract_year,
    day_blocks,
    dispatch_rank,
    free_blocks,
    nearest_slots,
    periodic_proposals,
    price_visit,
    technician_calendar,
    visit_calendar,
    visit_quota,
    week_slots,
    week_start,
)

TEHRAN = ZoneInfo("Asia/Tehran")
KYIV = ZoneInfo("Europe/Kyiv")
IOTEX = catalog("iotex")
OFFICE = visit_calendar(IOTEX)
YEAR = (date(2026, 12, 1), date(2027, 11, 30))
BEFORE_ALL = datetime(2026, 1, 1, tzinfo=TEHRAN)


def at(day: str, hour: int, minute: int = 0, zone=TEHRAN) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), zone)


def hours_of(blocks) -> list[tuple[str, str]]:
    return [(f"{s:%a %H:%M}", f"{e:%H:%M}") for s, e in blocks]


# --- blocks ----------------------------------------------------------------------------------

BLOCKS = {
    "a working day holds two 4-hour blocks, back to back": row(
        "2026-12-19", 4, [("Sat 09:00", "13:00"), ("Sat 13:00", "17:00")]
    ),
    "and one 8-hour block": row("2026-12-19", 8, [("Sat 09:00", "17:00")]),
    "Thursday is no working day in Tehran": row("2026-12-24", 4, []),
    "nor is a public holiday (the birthday of Imam Ali)": row("2026-12-23", 4, []),
}


@pytest.mark.parametrize(("day", "hours", "expected"), BLOCKS.values(), ids=BLOCKS)
def test_blocks_of_a_day(day, hours, expected):
    assert hours_of(day_blocks(OFFICE, date.fromisoformat(day), hours)) == expected


FREE = {
    "nothing booked: every block": row([], 4, 8),
    "a booked morning takes its block only (the afternoon is back to back with it)": row(
        [(at("2026-12-19", 9), at("2026-12-19", 13))], 4, 7
    ),
    "an 8-hour block is gone with any booking that day": row(
        [(at("2026-12-19", 13), at("2026-12-19", 17))], 8, 3
    ),
    "time off of an hour takes the block it falls in": row(
        [(at("2026-12-20", 10), at("2026-12-20", 11))], 4, 7
    ),
    "a booking ending as a block starts leaves it free": row(
        [(at("2026-12-19", 5), at("2026-12-19", 9))], 4, 8
    ),
}


@pytest.mark.parametrize(("busy", "hours", "count"), FREE.values(), ids=FREE)
def test_free_blocks_of_a_week_in_tehran(busy, hours, count):
    # Saturday 19 to Friday 25 December 2026: four working days (the 23rd is a holiday).
    assert len(free_blocks(OFFICE, busy, date(2026, 12, 19), hours, BEFORE_ALL)) == count


def test_no_block_starts_before_the_earliest_time():
    blocks = free_blocks(OFFICE, [], date(2026, 12, 19), 4, at("2026-12-19", 10))
    assert hours_of(blocks)[0] == ("Sat 13:00", "17:00")


def test_a_week_across_the_daylight_saving_change_keeps_the_wall_clock():
    kyiv = technician_calendar(
        OFFICE,
        timezone="Europe/Kyiv",
        days=range(5),
        hours=((time(9), time(17)),),
        holidays="UA",
    )
    # Clocks go forward on Sunday 28 March 2027 in Kyiv: 09:00 is UTC+2 before, UTC+3 after.
    blocks = free_blocks(kyiv, [], date(2027, 3, 22), 8, BEFORE_ALL, days=8)
    assert len(blocks) == 6
    friday, monday = blocks[4][0], blocks[5][0]
    assert (friday.hour, monday.hour) == (9, 9)
    assert friday.utcoffset() == timedelta(hours=2) and monday.utcoffset() == timedelta(hours=3)


def test_a_technician_in_another_zone_offers_their_own_hours():
    kyiv = technician_calendar(
        OFFICE, timezone="Europe/Kyiv", days=range(5), hours=((time(9), time(13)),)
    )
    slots = week_slots([TechnicianTime(1, kyiv)], date(2026, 12, 21), 4, BEFORE_ALL, days=1)
    # 09:00 in Kyiv is 10:30 in Tehran.
    assert [slot.start.astimezone(TEHRAN).time() for slot in slots] == [time(10, 30)]


def test_dated_exceptions_give_a_technician_a_day_off_or_an_extra_day():
    own = technician_calendar(
        OFFICE,
        exceptions=[(date(2026, 12, 19), ()), (date(2026, 12, 24), ((time(9), time(13)),))],
    )
    blocks = free_blocks(own, [], date(2026, 12, 19), 4, BEFORE_ALL)
    assert "Sat 09:00" not in dict(hours_of(blocks)) and ("Thu 09:00", "13:00") in hours_of(blocks)


def test_the_weeks_slots_merge_technicians_and_list_who_is_free():
    first = TechnicianTime(1, OFFICE, ((at("2026-12-19", 9), at("2026-12-19", 13)),))
    second = TechnicianTime(2, OFFICE)
    slots = week_slots([first, second], date(2026, 12, 19), 4, BEFORE_ALL, days=1)
    assert [(f"{s.start:%H}", s.technicians) for s in slots] == [("09", (2,)), ("13", (1, 2))]


def test_the_nearest_free_slots_to_a_taken_one():
    slots = week_slots([TechnicianTime(1, OFFICE)], date(2026, 12, 19), 4, BEFORE_ALL)
    nearest = nearest_slots(slots, at("2026-12-20", 13))
    assert hours_of((s.start, s.end) for s in nearest) == [
        ("Sun 09:00", "13:00"),
        ("Sun 13:00", "17:00"),
        ("Mon 09:00", "13:00"),
    ]


WEEKS = {
    "a Persian week starts on Saturday": row(date(2026, 12, 22), 5, date(2026, 12, 19)),
    "a Ukrainian one on Monday": row(date(2026, 12, 22), 0, date(2026, 12, 21)),
    "the first day is its own week's start": row(date(2026, 12, 19), 5, date(2026, 12, 19)),
}


@pytest.mark.parametrize(("day", "first", "expected"), WEEKS.values(), ids=WEEKS)
def test_week_start(day, first, expected):
    assert week_start(day, first) == expected


# --- contract years and the quota ------------------------------------------------------------

YEARS = {
    "the first day starts the first year": row("2026-12-01", ("2026-12-01", "2027-11-30")),
    "a day in the second year of a 2-year period": row("2028-01-15", ("2027-12-01", "2028-11-30")),
    "the last day of the period": row("2028-11-30", ("2027-12-01", "2028-11-30")),
    "a day after the period has none": row("2028-12-01", None),
}


@pytest.mark.parametrize(("day", "expected"), YEARS.values(), ids=YEARS)
def test_contract_years_of_a_two_year_period(day, expected):
    found = contract_year(date(2026, 12, 1), date(2028, 11, 30), date.fromisoformat(day))
    assert found == (tuple(date.fromisoformat(d) for d in expected) if expected else None)


def test_a_short_period_cuts_its_only_year():
    assert contract_year(date(2026, 12, 1), date(2027, 5, 31), date(2027, 3, 1)) == (
        date(2026, 12, 1),
        date(2027, 5, 31),
    )


QUOTAS = {
    "standard includes 4 free hours a year": row("standard", 0, 0, (4, 4, 0, 0)),
    "premium 12 and 2 periodic visits": row("premium", 0, 0, (12, 12, 2, 2)),
    "premium after an 8-hour visit and a periodic one": row("premium", 8, 1, (12, 4, 2, 1)),
    "basic has none": row("basic", 0, 0, (0, 0, 0, 0)),
    "more used than included leaves nothing, never less": row("standard", 6, 0, (4, 0, 0, 0)),
}


@pytest.mark.parametrize(("plan", "used", "periodic", "expected"), QUOTAS.values(), ids=QUOTAS)
def test_quota(plan, used, periodic, expected):
    quota = visit_quota(IOTEX, plan, YEAR, Decimal(used), periodic)
    assert (quota.hours, quota.hours_left, quota.periodic, quota.periodic_left) == expected


def test_two_periodic_visits_are_proposed_a_third_and_two_thirds_into_the_year():
    assert periodic_proposals(YEAR, 2) == (date(2027, 4, 1), date(2027, 8, 1))


# --- prices ----------------------------------------------------------------------------------

PRICES = {
    "standard's 4 free hours cover a 4-hour block": row("standard", 0, 4, AREA, False, 4, None),
    "premium's 12 cover an 8-hour block": row("premium", 0, 8, AREA, False, 8, None),
    "2 hours left: 2 covered, 2 priced by the hour (cheaper than a block)": row(
        "premium", 10, 4, AREA, False, 2, "4000000"
    ),
    "none left: a 4-hour block at the provider's block price": row(
        "standard", 4, 4, AREA, False, 0, "7000000"
    ),
    "basic pays every visit, an 8-hour block": row("basic", 0, 8, AREA, False, 0, "12000000"),
    "out of town no free hours apply": row("premium", 0, 8, OUT_OF_TOWN, False, 0, "12000000"),
    "a periodic visit within the plan's is free": row("premium", 0, 4, AREA, True, 0, None),
    "a third periodic visit costs the extra visit": row(
        "premium", 0, 4, AREA, "third", 0, "3000000"
    ),
}


@pytest.mark.parametrize(
    ("plan", "used", "hours", "region", "periodic", "covered", "total"),
    PRICES.values(),
    ids=PRICES,
)
def test_price_before_booking(plan, used, hours, region, periodic, covered, total):
    quota = visit_quota(IOTEX, plan, YEAR, Decimal(used), 2 if periodic == "third" else 0)
    priced = price_visit(IOTEX, quota, hours, region, periodic=bool(periodic))
    assert priced.covered_hours == covered
    assert (priced.quote.total if priced.quote else None) == (money(total) if total else None)
    assert priced.travel_at_cost == (region == OUT_OF_TOWN)


REFUSED = {
    "a block the catalog does not offer": row(3, AREA, "invalid_block", "hours"),
    "a region that is neither the area nor out of town": row(4, "moon", "invalid_region", "region"),
}


@pytest.mark.parametrize(("hours", "region", "code", "field"), REFUSED.values(), ids=REFUSED)
def test_price_refuses(hours, region, code, field):
    quota = visit_quota(IOTEX, "standard", YEAR, Decimal(0), 0)
    with pytest.raises(PlanError) as raised:
        price_visit(IOTEX, quota, hours, region)
    assert (raised.value.code, raised.value.field) == (code, field)


def test_without_an_on_site_price_a_visit_beyond_the_quota_cannot_be_priced():
    unpriced = replace(IOTEX, visits=replace(IOTEX.visits, onsite=None))
    quota = visit_quota(unpriced, "basic", YEAR, Decimal(0), 0)
    with pytest.raises(PlanError) as raised:
        price_visit(unpriced, quota, 4, AREA)
    assert raised.value.code == "visit_not_priced"


# --- dispatch --------------------------------------------------------------------------------


RANKS = {
    "premium is sent first": row("premium", 0),
    "then standard": row("standard", 1),
    "then basic": row("basic", 2),
    "a client with no plan last": row(None, 3),
}


@pytest.mark.parametrize(("plan", "rank"), RANKS.values(), ids=RANKS)
def test_dispatch_rank_follows_the_catalogs_priority(plan, rank):
    assert dispatch_rank(IOTEX, plan) == rank


# --- the catalog's [visits] section ----------------------------------------------------------

BROKEN = {
    "an unknown calendar": row('calendar = "office"', 'calendar = "night"', "calendar"),
    "a free-hours feature that is not yearly": row(
        'free_hours = "onsite-hours"', 'free_hours = "dispatch-priority"', "free_hours"
    ),
    "a periodic block the catalog does not offer": row(
        "periodic_hours = 4", "periodic_hours = 3", "periodic_hours"
    ),
    "an unknown plan in the priority": row(
        '"premium", "standard", "basic"]', '"gold"]', "priority"
    ),
    "an on-site price that is not hourly": row(
        'onsite = "onsite"', 'onsite = "launch-2d"', "onsite"
    ),
}


@pytest.mark.parametrize(("old", "new", "key"), BROKEN.values(), ids=BROKEN)
def test_a_broken_visits_section_is_refused_where_it_is_wrong(old, new, key):
    text = catalog_text("iotex")
    assert old in text
    with pytest.raises(CatalogError) as raised:
        parse_catalog(text.replace(old, new, 1))
    assert f"visits.{key}" in str(raised.value)
