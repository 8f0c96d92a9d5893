"""Phone first: the chosen plan's price on the first screen of every catalog, and no page of the
site map wider than the window, at 360 and 1280 px, for visitors, clients and staff.

The clients and staff come from ``flask demo load``'s use case, on each portal's own database;
screenshots of every page go to ``test-artifacts/site/``."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from portal.catalog.current import current_catalog
from portal.clock import today_in
from portal.demo import services as demo
from portal.extensions import db
from portal.models import Order

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
# Visitors' pages, by catalog; {plan} is each catalog's first plan.
PUBLIC = (
    "/plans",
    "/plans/{plan}",
    "/login",
    "/register",
    "/terms",
    "/confirm/resend",
    "/password/forgot",
    "/callback?plan={plan}",
)


@pytest.mark.parametrize(
    ("catalog", "query"),
    [
        ("kbs", ""),
        ("iiko", ""),
        ("iotex", "?licence_value=1000000000"),  # priced once the licence value is typed
        ("crystals", ""),
        ("kvartplata", ""),
    ],
)
def test_the_shown_plans_price_and_main_button_are_on_a_phones_first_screen(
    live_server, make_page, catalog, query
):
    page = make_page(viewport=PHONE)
    page.goto(live_server(catalog) + "/plans" + query)
    card = page.locator(".plan-card")
    expect(card).to_have_count(1)
    for part in (card.locator(".price").first, card.locator(".actions .button").first):
        expect(part).to_be_in_viewport()
        box = part.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], (catalog, box)


def test_the_switcher_shows_one_plan_after_another_and_the_term_keeps_it(live_server, make_page):
    page = make_page(viewport=PHONE)
    page.goto(live_server("kbs") + "/plans?lang=uk")
    expect(page.locator(".plan-card")).to_have_attribute("data-plan", "optima")
    page.locator(".plan-switcher [data-show=premium]").click()
    expect(page.locator(".plan-card")).to_have_attribute("data-plan", "premium")
    expect(page).to_have_url(re.compile(r"show=premium"))
    page.locator(".choice-summary").click()
    page.get_by_label("Строк").select_option("7m")
    expect(page.locator(".plan-card .per")).to_have_text("7 місяців")
    expect(page.locator(".plan-card")).to_have_attribute("data-plan", "premium")


def test_without_javascript_the_switcher_is_a_link_and_the_choice_stays_open(
    live_server, make_page
):
    page = make_page(viewport=PHONE, java_script_enabled=False)
    page.goto(live_server("kbs") + "/plans?lang=en")
    expect(page.get_by_label("Term")).to_be_visible()
    page.locator(".plan-switcher [data-show=prof]").click()
    expect(page.locator(".plan-card")).to_have_attribute("data-plan", "prof")


@pytest.fixture(scope="module")
def office(live_server, tmp_path_factory):
    """A KBS portal of its own with a demo office: (url, password, an order's id)."""
    url = live_server("kbs", OUTBOX_DIR=str(tmp_path_factory.mktemp("office-outbox")))
    app = live_server.app_of(url)
    with app.app_context():
        catalog = current_catalog()
        accounts = demo.load(db.session, catalog, today_in(catalog.timezone))
        order_id = db.session.query(Order.id).order_by(Order.id).first()[0]
    return url, accounts[0].password, order_id


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(url + "/login?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def overflow(page: Page) -> int:
    """By how many pixels the page is wider than the window (0: no horizontal scroll)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def walk(page: Page, url: str, paths, artifacts, name: str) -> list:
    wide = []
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        for path in paths:
            response = page.goto(url + path)
            assert response.status < 400, (path, response.status)
            if overflow(page) > 0:
                wide.append((viewport["width"], path, overflow(page)))
            shot = re.sub(r"[^\w]+", "_", path).strip("_") or "home"
            folder = artifacts / "site"
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(folder / f"{name}-{shot}-{viewport['width']}.png"), full_page=True
            )
    return wide


@pytest.mark.parametrize(
    ("catalog", "language"),
    [
        ("kbs", "uk"),
        ("iiko", "ru"),
        ("iotex", "fa"),
        ("crystals", "ru"),
        ("kvartplata", "kk"),
    ],
)
def test_no_public_page_is_wider_than_the_window(
    live_server, make_page, artifacts, catalog, language
):
    url = live_server(catalog)
    plan = _plans(live_server, url)[0]
    paths = [p.format(plan=plan) + ("&" if "?" in p else "?") + f"lang={language}" for p in PUBLIC]
    assert walk(make_page(), url, paths, artifacts, f"{catalog}-{language}") == []


def _plans(live_server, url):
    with live_server.app_of(url).app_context():
        return list(current_catalog().plans)


def test_no_page_of_a_client_or_of_staff_is_wider_than_the_window(office, make_page, artifacts):
    url, password, order_id = office
    client = make_page()
    sign_in(client, url, "client1@kbs-demo.example", password)
    month = f"{datetime.now(ZoneInfo('Europe/Kyiv')):%Y-%m}"  # the live server's real clock
    client_pages = [
        "/account?lang=uk",
        f"/orders/{order_id}?lang=uk",
        "/plans?lang=uk",
        "/orders/new?plan=optima&term=3m&lang=uk",
        "/account/time?lang=uk",
        "/account/time?lang=en",
        "/account/acts?lang=uk",
        f"/reports/{month}?lang=uk",
    ]
    assert walk(client, url, client_pages, artifacts, "client") == []
    staff = make_page()
    sign_in(staff, url, "staff@kbs-demo.example", password)
    staff_pages = [
        "/staff/callbacks?lang=en",
        "/staff/organizations?lang=en",
        "/staff/invoices?lang=en",
        "/staff/outbox?lang=en",
        f"/orders/{order_id}?lang=en",
    ]
    assert walk(staff, url, staff_pages, artifacts, "staff") == []


@pytest.fixture(scope="module")
def iotex_office(live_server, tmp_path_factory):
    """An Iotex portal of its own with a demo office (its staff member a technician)."""
    url = live_server("iotex", OUTBOX_DIR=str(tmp_path_factory.mktemp("iotex-outbox")))
    with live_server.app_of(url).app_context():
        catalog = current_catalog()
        accounts = demo.load(db.session, catalog, today_in(catalog.timezone))
    return url, accounts[0].password


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_visit_page_is_wider_than_the_window(iotex_office, make_page, artifacts, language):
    url, password = iotex_office
    client = make_page()
    sign_in(client, url, "client3@iotex-demo.example", password)
    pages = [
        f"/visits?lang={language}",
        f"/visits/new?lang={language}",
        f"/visits/new?hours=8&region=out-of-town&lang={language}",
    ]
    assert walk(client, url, pages, artifacts, f"visits-{language}") == []
    staff = make_page()
    sign_in(staff, url, "staff@iotex-demo.example", password)
    staff_pages = [f"/staff/visits?lang={language}", f"/staff/technicians?lang={language}"]
    assert walk(staff, url, staff_pages, artifacts, f"visits-staff-{language}") == []
