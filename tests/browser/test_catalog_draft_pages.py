"""An admin edits the catalog in a real browser (issue 13): OPTIMA's 7-month price typed in the
draft's grid (htmx saves it as the cell is left), the public page previewed with it, the
draft published; the public page then shows the new price, while an order a client placed
before keeps 40 740 and its invoice is for 40 740.

The portal runs on its own database (settings of its own), so the version it publishes
changes no other test's prices.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from portal.accounts import services as accounts
from portal.clock import utc_now
from portal.extensions import db

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
CELL = "#plans-optima-terms-7m"


@pytest.fixture(scope="module")
def portal(live_server, tmp_path_factory):
    return live_server("kbs", OUTBOX_DIR=str(tmp_path_factory.mktemp("draft-outbox")))


def people(app) -> tuple[str, str]:
    """An admin, and the owner of a client organization with its details filled in."""
    admin = f"admin-{secrets.token_hex(4)}@example.com"
    owner = f"owner-{secrets.token_hex(4)}@example.com"
    with app.app_context():
        accounts.create_user(
            db.session, email=admin, name="Root", password=PASSWORD, role="admin", now=utc_now()
        )
        registration = accounts.Registration(
            organization=accounts.OrganizationProfile(
                name=f"Zori {secrets.token_hex(2)}",
                language="en",
                timezone="Europe/Kyiv",
                tax_number="38123456",
                address="1 Khreshchatyk St, Kyiv, 01001",
            ),
            name="Olena Kovalenko",
            email=owner,
            password=PASSWORD,
        )
        user = accounts.register(db.session, registration, utc_now())
        accounts.confirm_email(db.session, user, utc_now())
    return admin, owner


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def seven_months(page: Page, total: str):
    return page.locator(f'tbody.prices td[data-plan="optima"] .price[data-total="{total}"]')


def test_an_admin_changes_optimas_7_month_price_previews_publishes_and_an_order_keeps_its_price(
    make_page, portal, live_server
):
    admin_email, owner_email = people(live_server.app_of(portal))
    client = make_page()
    sign_in(client, portal, owner_email)
    client.goto(portal + "/orders/new?plan=optima&term=7m&lang=en")
    expect(client.locator(".order-summary .quote-lines [data-total]")).to_have_attribute(
        "data-total", "40740.00"
    )
    client.get_by_role("button", name="Confirm the order").click()
    expect(client).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = client.url

    admin = make_page()
    sign_in(admin, portal, admin_email)
    admin.goto(portal + "/admin/catalog?lang=en")
    admin.get_by_role("button", name="Start a draft").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Catalog draft")
    cell = admin.locator(CELL)
    expect(cell).to_have_value("40740")

    cell.fill("44 000")
    cell.press("Tab")

    saved = admin.locator(CELL).locator("xpath=..").get_by_text("Saved")
    expect(saved).to_be_visible()
    expect(admin.locator(CELL)).to_have_value("44000")
    expect(admin.locator("#draft-status")).to_contain_text("1 changed value")

    admin.locator(CELL).fill("-1")
    admin.locator(CELL).press("Tab")
    expect(admin.locator(f"{CELL}-error")).to_have_text("A price cannot be negative.")
    admin.locator(CELL).fill("44000")
    admin.locator(CELL).press("Tab")
    expect(admin.locator(f"{CELL}-error")).to_have_count(0)

    admin.get_by_role("button", name="Preview the public page").click()
    expect(admin.locator(".preview-banner")).to_be_visible()
    admin.select_option("select[name=term]", "7m")
    expect(seven_months(admin, "44000.00")).to_be_visible()
    client.goto(portal + "/plans?term=7m&lang=en")
    expect(seven_months(client, "40740.00")).to_be_visible()

    admin.locator(".preview-banner").get_by_role("button", name="Back to the draft").click()
    admin.get_by_role("link", name="Changes").first.click()
    expect(admin.locator('tr[data-path="plans.optima.terms.7m"]')).to_contain_text("44,000")
    admin.get_by_role("link", name="Back to the draft").last.click()
    admin.get_by_role("button", name="Publish the draft").click()
    expect(admin.get_by_text("Version 2 is published and in effect.")).to_be_visible()

    client.goto(portal + "/plans?term=7m&lang=en")
    expect(seven_months(client, "44000.00")).to_be_visible()
    client.goto(order_url)
    client.locator("[data-pay=bank-transfer]").click()
    expect(client.locator("[data-document=invoice]")).to_be_visible()
    expect(client.get_by_text(re.compile(r"transfer .*40[\s,\u00a0\u202f]?740"))).to_be_visible()
