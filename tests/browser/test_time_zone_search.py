"""The registration's time-zone list: the catalog's zone and country first, and a search box
that narrows the list as one types a city or a country."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def options(page) -> list[str]:
    return page.locator("#timezone option").evaluate_all("(all) => all.map((o) => o.value)")


def test_typing_a_city_keeps_its_zone_and_the_chosen_one(live_server, page):
    page.goto(live_server("kbs") + "/register?lang=uk")
    expect(page.locator("#timezone")).to_have_value("Europe/Kyiv")
    assert options(page)[:2] == ["Europe/Kyiv", "Europe/Simferopol"]
    search = page.locator("input[data-narrows=timezone]")
    expect(search).to_be_visible()

    search.fill("Алмат")
    assert options(page) == ["Europe/Kyiv", "Asia/Almaty"]  # the chosen one always stays
    page.locator("#timezone").select_option("Asia/Almaty")

    search.fill("")
    assert len(options(page)) > 300  # all back, the choice kept
    expect(page.locator("#timezone")).to_have_value("Asia/Almaty")


def test_typing_a_country_keeps_its_zones(live_server, page):
    page.goto(live_server("kbs") + "/register?lang=en")
    page.locator("input[data-narrows=timezone]").fill("kazakhstan")
    kept = options(page)
    assert "Asia/Almaty" in kept and "Asia/Oral" in kept
    assert set(kept) - {"Europe/Kyiv"} <= {
        "Asia/Almaty",
        "Asia/Aqtau",
        "Asia/Aqtobe",
        "Asia/Atyrau",
        "Asia/Oral",
        "Asia/Qostanay",
        "Asia/Qyzylorda",
    }


def test_without_javascript_the_list_is_there_and_the_search_box_is_not(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server("kbs") + "/register?lang=en")
    expect(page.locator("input[data-narrows=timezone]")).to_be_hidden()
    assert page.locator("#timezone option").count() > 300
    context.close()
