"""The comparison in a real browser: htmx updates, shareable addresses, languages, small screens.

The servers keep the real clock, so every figure that depends on the day is
computed here with the same engine (``portal.plans``) for today's date in the
catalog's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from portal.plans import load_catalog, parse_quote_request, quote
from portal.plans.sla import callback_due

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
QTY_1_2 = {"qty.workstation": "1", "qty.fiscal-register": "2"}


def engine_total(catalog_name: str, params: dict[str, str]) -> str:
    """What the engine charges today for ``params`` (``plan`` and its options), as on the page."""
    catalog = load_catalog(catalog_name)
    plan = catalog.plans[params["plan"]]
    if plan.takes_term and "term" not in params:
        params = {**params, "term": plan.default_term.code}
    today = datetime.now(ZoneInfo(catalog.timezone)).date()
    return str(quote(catalog, parse_quote_request(catalog, params, today), today).total)


def shown_totals(page: Page) -> dict[str, str]:
    """Each plan's total as the page states it (``data-total``), by plan code."""
    return page.eval_on_selector_all(
        "tbody.prices td[data-plan] .price[data-total]",
        "prices => Object.fromEntries(prices.map("
        "p => [p.closest('td').dataset.plan, p.dataset.total]))",
    )


def price_of(page: Page, plan: str, total: str):
    return page.locator(f'tbody.prices td[data-plan="{plan}"] .price[data-total="{total}"]')


def pick_seven_months(page: Page) -> None:
    page.select_option("select[name=term]", "7m")
    expect(price_of(page, "optima", "40740.00")).to_be_visible()


def test_picking_seven_months_shows_optimas_40740_without_reloading_the_page(page, live_server):
    page.goto(live_server("kbs") + "/plans?lang=en")
    expect(page.locator("select[name=term]")).not_to_have_value("7m")
    expect(page.get_by_role("button", name="Show prices")).to_be_hidden()
    page.evaluate("window.__marker = 1")

    page.select_option("select[name=term]", "7m")

    optima = price_of(page, "optima", "40740.00")
    expect(optima).to_be_visible()
    expect(optima).to_contain_text("40,740.00")
    saving = page.locator("td[data-plan=optima] .saving").filter(has_text="you save 4,200.00")
    expect(saving).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]term=7m(&|$)"))
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def test_the_pushed_address_brings_back_the_same_prices_and_term(make_page, live_server):
    first = make_page()
    first.goto(live_server("kbs") + "/plans?lang=en")
    pick_seven_months(first)
    expect(first).to_have_url(re.compile(r"[?&]term=7m(&|$)"))
    totals = shown_totals(first)

    second = make_page()
    second.goto(first.url)

    assert set(totals) == {"prof", "optima", "premium"}
    assert shown_totals(second) == totals
    expect(second.locator("select[name=term]")).to_have_value("7m")


def test_iiko_quantities_and_yearly_billing_price_the_contract_and_single_requests(
    page, live_server
):
    choice = {"qty.workstation": "3", "qty.fiscal-register": "2"}
    contract = engine_total("iiko", {"plan": "contract", "billing": "year", **choice})
    one_off = engine_total("iiko", {"plan": "one-off", **choice})
    page.goto(live_server("iiko") + "/plans?lang=en")

    page.fill('input[name="qty.workstation"]', "3")
    page.fill('input[name="qty.fiscal-register"]', "2")
    page.select_option("select[name=billing]", "year")

    expect(price_of(page, "contract", contract)).to_be_visible()
    expect(price_of(page, "one-off", one_off)).to_be_visible()
    assert shown_totals(page) == {"contract": contract, "one-off": one_off}
    assert contract == "38016.00"  # (3 × 998 + 2 × 263) × 12, less 10% for a year at once
    expect(page).to_have_url(re.compile(r"[?&]qty\.workstation=3(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]billing=year(&|$)"))


def test_a_mistyped_quantity_is_shown_beside_its_field_and_the_rest_is_kept(page, live_server):
    page.goto(live_server("iiko") + "/plans?lang=en")
    page.fill('input[name="qty.fiscal-register"]', "2")
    page.select_option("select[name=billing]", "year")
    expect(
        price_of(page, "one-off", engine_total("iiko", {"plan": "one-off", **QTY_1_2}))
    ).to_be_visible()

    page.fill('input[name="qty.workstation"]', "-1")

    error = page.locator("#error-qty-workstation")
    expect(error).to_have_text(re.compile(r"whole number from 0 to 100,000"))
    expect(error).to_be_visible()
    expect(page.locator("tbody.prices .price[data-total]")).to_have_count(0)
    expect(page.locator("#price-status")).to_have_text(
        "Correct the marked fields to see the prices."
    )
    expect(page.locator('input[name="qty.workstation"]')).to_have_value("-1")
    expect(page.locator('input[name="qty.workstation"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator('input[name="qty.fiscal-register"]')).to_have_value("2")
    expect(page.locator("select[name=billing]")).to_have_value("year")

    page.fill('input[name="qty.workstation"]', "1")

    contract = engine_total("iiko", {"plan": "contract", "billing": "year", **QTY_1_2})
    expect(price_of(page, "contract", contract)).to_be_visible()
    expect(error).to_have_text("")
    expect(error).to_be_hidden()
    expect(page.locator('input[name="qty.workstation"]')).to_have_attribute("aria-invalid", "false")


def test_without_javascript_the_show_prices_button_reprices_the_page(make_page, live_server):
    page = make_page(java_script_enabled=False)
    page.goto(live_server("kbs") + "/plans?lang=en")
    page.select_option("select[name=term]", "7m")
    show_prices = page.get_by_role("button", name="Show prices")
    expect(show_prices).to_be_visible()

    with page.expect_navigation():
        show_prices.click()

    expect(price_of(page, "optima", "40740.00")).to_contain_text("40,740.00")
    expect(page).to_have_url(re.compile(r"/plans\?.*term=7m"))
    expect(page.locator("select[name=term]")).to_have_value("7m")


def test_the_persian_page_reads_right_to_left_in_rials_with_persian_digits(page, live_server):
    page.goto(live_server("iotex") + "/plans?lang=fa&licence_value=1000000000")
    choice = {"term": "1y", "licence_value": "1000000000"}
    assert shown_totals(page) == {
        plan: engine_total("iotex", {"plan": plan, **choice})
        for plan in ("basic", "standard", "premium")
    }

    assert page.evaluate("document.documentElement.dir") == "rtl"
    basic = page.locator("thead th[data-plan=basic]")
    premium = page.locator("thead th[data-plan=premium]")
    expect(basic).to_contain_text("پایه")
    assert basic.bounding_box()["x"] > premium.bounding_box()["x"]
    prices = page.locator("tbody.prices .price[data-total]")
    expect(prices).to_have_count(3)
    for text in prices.all_inner_texts():
        assert "ریال" in text
        assert re.search(f"[{PERSIAN_DIGITS}]", text)
        assert not re.search(r"[0-9]", text), text


def test_plan_names_stay_in_view_while_the_table_scrolls_on_a_small_tablet(make_page, live_server):
    # Phones get one plan at a time (test_phone.py); from 40rem up the table scrolls in its box.
    page = make_page(viewport={"width": 720, "height": 740})
    page.goto(live_server("kbs") + "/plans?lang=en")
    scroller = page.locator(".table-scroll")
    header = page.locator("thead th[data-plan=optima]")
    header_bottom = header.bounding_box()["y"] + header.bounding_box()["height"]
    below_container_top = header_bottom - scroller.bounding_box()["y"]

    scrolled = scroller.evaluate("box => { box.scrollBy(0, 600); return box.scrollTop; }")

    # Scrolled far enough that a header that did not stick would have gone out of view...
    assert scrolled > below_container_top
    # ...and the header is still inside the container's visible box.
    box = scroller.bounding_box()
    seen = header.bounding_box()
    assert box["y"] <= seen["y"] < seen["y"] + seen["height"] <= box["y"] + box["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 720


def test_the_term_is_reached_with_tab_and_changed_with_the_arrow_keys(page, live_server):
    page.goto(live_server("kbs") + "/plans?lang=en")
    term = page.locator("select[name=term]")
    options = term.locator("option").evaluate_all("options => options.map(o => o.value)")
    before = term.input_value()

    for _ in range(30):
        page.keyboard.press("Tab")
        if term.evaluate("select => document.activeElement === select"):
            break
    else:
        pytest.fail("30 presses of Tab never reached the term")
    page.keyboard.press("ArrowDown")

    after = options[options.index(before) + 1]
    expect(term).to_have_value(after)
    expected = engine_total("kbs", {"plan": "optima", "term": after})
    expect(price_of(page, "optima", expected)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"[?&]term={re.escape(after)}(&|$)"))


SCREENSHOTS = [("kbs", lang) for lang in ("en", "ru", "uk", "fa", "kk")] + [("iotex", "fa")]


@pytest.mark.parametrize(
    ("catalog", "lang"), SCREENSHOTS, ids=[f"{catalog}-{lang}" for catalog, lang in SCREENSHOTS]
)
def test_a_screenshot_of_the_comparison_is_kept_for_each_language(
    page, live_server, artifacts, catalog, lang
):
    response = page.goto(live_server(catalog) + f"/plans?lang={lang}")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", lang)
    path = artifacts / "screenshots" / f"compare-{catalog}-{lang}.png"
    path.parent.mkdir(parents=True, exist_ok=True)

    page.screenshot(path=path, full_page=True)

    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def test_asking_for_a_call_back_from_the_comparison_promises_a_time(page, live_server):
    page.goto(live_server("kbs") + "/plans?lang=en")
    pick_seven_months(page)

    page.locator("tbody.prices td[data-plan=optima]").get_by_role(
        "link", name="Ask for a call-back"
    ).click()

    expect(page).to_have_url(re.compile(r"/callback\?.*plan=optima"))
    expect(page.locator("input[name=options]")).to_have_value("term=7m")
    name = page.get_by_label("Your name")
    phone = page.get_by_label("Phone")
    company = page.get_by_label("Company (optional)")
    preferred_time = page.get_by_label("When should we call?")
    consent = page.get_by_role("checkbox", name=re.compile("I agree to be called"))
    for field in (name, phone, company, preferred_time, consent):
        expect(field).to_be_visible()

    name.fill("Olena Kovalenko")
    phone.fill("12")
    company.fill("Zori LLC")
    preferred_time.select_option("morning")
    consent.check()
    page.get_by_role("button", name="Call me back").click()

    expect(page.locator("#phone-error")).to_contain_text("This is not a phone number we can call")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_value("Olena Kovalenko")
    expect(company).to_have_value("Zori LLC")
    expect(preferred_time).to_have_value("morning")
    expect(consent).to_be_checked()

    phone.fill("067 123 45 67")
    catalog = load_catalog("kbs")
    sent_no_earlier = datetime.now(UTC)
    page.get_by_role("button", name="Call me back").click()

    expect(page).to_have_url(re.compile(r"/callback/[\w-]+$"))
    sent_no_later = datetime.now(UTC)
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    promise = page.locator(".callback-promise")
    expect(promise).to_contain_text("A manager will call you back by")
    due = datetime.fromisoformat(promise.locator("time").get_attribute("datetime"))
    earliest = callback_due(catalog, sent_no_earlier).replace(microsecond=0)
    assert earliest <= due <= callback_due(catalog, sent_no_later)
    expect(page.get_by_text("+380 67 123 4567")).to_be_visible()
