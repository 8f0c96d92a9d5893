"""iiko's eight counts sit in an aligned grid, each with − and + buttons that step it and
update the prices as typing would; without JavaScript the fields are typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [360, 1280])
def test_the_steppers_of_a_row_line_up(live_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(live_server("iiko") + "/plans?lang=ru")
    if width == 360:
        page.locator("#choice summary").click()
    fields = page.locator(".units-picker .stepper")
    expect(fields).to_have_count(8)
    tops = {
        round(box["y"])
        for box in fields.evaluate_all(
            "(all) => all.map((f) => f.getBoundingClientRect().toJSON())"
        )
    }
    rows = 4 if width == 360 else 2  # two a row on a phone, five a row on a desktop
    assert len(tops) == rows, tops
    context.close()


def test_plus_and_minus_step_a_count_and_the_price_follows(live_server, page):
    page.goto(live_server("iiko") + "/plans?lang=en")
    workstations = page.locator("#qty-workstation")
    expect(workstations).to_have_value("1")  # 11 976 RUB a year for one
    plus = page.locator(".stepper-step[data-for=qty-workstation][data-step='1']")
    plus.click()
    plus.click()
    expect(workstations).to_have_value("3")
    contract = page.locator("table.plans [data-total]").first
    expect(contract).to_have_attribute("data-total", "35928.00")  # three a year
    minus = page.locator(".stepper-step[data-for=qty-workstation][data-step='-1']")
    for _ in range(5):
        minus.click()
    expect(workstations).to_have_value("0")  # never below 0


def test_without_javascript_the_counts_are_typed_and_no_stepper_shows(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server("iiko") + "/plans?lang=en")
    expect(page.locator(".stepper-step").first).to_be_hidden()
    expect(page.locator("#qty-workstation")).to_be_visible()
    context.close()
