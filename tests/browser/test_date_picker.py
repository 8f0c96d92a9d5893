"""The date field in the reader's calendar: a month picker (htmx) beside a text field that takes
the date as the reader writes it; a Jalali day picked on a Persian page reaches the engine as the
right Gregorian day."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from playwright.sync_api import expect

from portal import formatting

pytestmark = pytest.mark.browser


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def next_month(calendar):
    """Step to the next month and wait until it is there (htmx swaps the picker)."""
    title = calendar.locator(".month-title").inner_text()
    calendar.locator(".month-step").last.click()
    expect(calendar.locator(".month-title")).not_to_have_text(title)


def test_a_jalali_day_picked_on_a_persian_page_starts_the_period_on_its_gregorian_day(
    live_server, page
):
    page.goto(live_server("iotex") + "/plans?licence_value=1000000000&lang=fa")
    page.locator(".date-open[aria-controls=start-calendar]").click()
    calendar = page.locator("#start-calendar")
    expect(calendar.locator(".month-day").first).to_be_visible()
    next_month(calendar)  # the next Jalali month
    calendar.locator(".month-day", has_text=re.compile("^۱۰$")).click()

    now = jdatetime.date.fromgregorian(date=today_in("Asia/Tehran"))
    year, month = (now.year, now.month + 1) if now.month < 12 else (now.year + 1, 1)
    picked = jdatetime.date(year, month, 10)
    expect(page.locator("#start")).to_have_value(formatting.digits(f"{year}/{month:02d}/10", "fa"))
    gregorian = picked.togregorian()
    # The engine priced a period from that Gregorian day: its coverage reads so, in Jalali.
    expect(page.locator("table.plans .coverage").first).to_contain_text(
        formatting.day(gregorian, "fa")
    )
    expect(calendar).to_be_empty()


def test_a_day_picked_on_a_ukrainian_page_is_written_as_ukrainians_write_it(live_server, page):
    page.goto(live_server("kbs") + "/plans?lang=uk")
    page.locator(".date-open[aria-controls=start-calendar]").click()
    calendar = page.locator("#start-calendar")
    expect(calendar.locator("thead th").first).to_have_text(re.compile("пн", re.IGNORECASE))
    next_month(calendar)
    calendar.locator(".month-day", has_text=re.compile("^15$")).click()

    today = today_in("Europe/Kyiv")
    month = date(today.year + (today.month == 12), today.month % 12 + 1, 15)
    expect(page.locator("#start")).to_have_value(month.strftime("%d.%m.%Y"))
    expect(page.locator("table.plans .coverage").first).to_contain_text(formatting.day(month, "uk"))


def test_days_before_today_cannot_be_picked(live_server, page):
    page.goto(live_server("kbs") + "/plans?lang=en")
    page.locator(".date-open[aria-controls=start-calendar]").click()
    today = today_in("Europe/Kyiv")
    calendar = page.locator("#start-calendar")
    expect(calendar.locator(f"[data-day='{today.isoformat()}']")).to_be_enabled()
    if today.day > 1:
        yesterday = today.replace(day=today.day - 1)
        expect(calendar.locator(f"[data-day='{yesterday.isoformat()}']")).to_be_disabled()


def test_without_javascript_the_date_is_typed_in_the_readers_calendar(live_server, make_page):
    page = make_page(java_script_enabled=False)
    page.goto(live_server("kbs") + "/plans?lang=uk")
    expect(page.locator(".date-open").first).to_be_hidden()
    page.locator("#start").fill("15.01.2027")
    page.get_by_role("button", name=re.compile("Показати ціни|Show prices")).click()
    expect(page.locator("table.plans .coverage").first).to_contain_text("15 січня 2027")


def test_an_open_persian_month_fits_a_phone(live_server, make_page):
    page = make_page(viewport={"width": 360, "height": 640})
    page.goto(live_server("iotex") + "/plans?licence_value=1000000000&lang=fa")
    page.locator("#choice summary").click()
    page.locator(".date-open").first.click()
    expect(page.locator(".month-picker .month-day").first).to_be_visible()
    # Day names short enough for a day's column: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
