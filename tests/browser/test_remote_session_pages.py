"""A paid remote session in a real browser (issue 11): a Kvartplata client books a direct
session for a free time, staff log 1.5 hours on the day plan's session and close it, and
the client sees the invoice for 5 950 RUB (1.5 × 1 300 and the 4 000 connection fee).

The server keeps the real clock: the time booked is the first free one offered, whatever
day the test runs.
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


@pytest.fixture(scope="module")
def portal(live_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sessions")
    return live_server(
        "kvartplata",
        OUTBOX_DIR=str(folder / "outbox"),
        SESSION_FILES_DIR=str(folder / "files"),
    )


def people(app) -> tuple[str, str]:
    client = f"client-{secrets.token_hex(4)}@example.com"
    staff = f"desk-{secrets.token_hex(4)}@example.com"
    with app.app_context():
        registration = accounts.Registration(
            organization=accounts.OrganizationProfile(
                name=f"ТСЖ {secrets.token_hex(2)}",
                language="en",
                timezone="Europe/Moscow",
                tax_number="7701234567",
                address="Tverskaya 1, Moscow",
            ),
            name="Irina Petrova",
            email=client,
            password=PASSWORD,
        )
        owner = accounts.register(db.session, registration, utc_now())
        accounts.confirm_email(db.session, owner, utc_now())
        accounts.create_user(
            db.session, email=staff, name="Ivan", password=PASSWORD, role="staff", now=utc_now()
        )
    return client, staff


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_a_direct_session_booked_held_for_1_5_hours_is_invoiced_5950(
    portal, live_server, make_page
):
    client_email, staff_email = people(live_server.app_of(portal))
    client = make_page()
    sign_in(client, portal, client_email)
    client.get_by_role("link", name="Sessions").first.click()
    client.locator("[data-service='remote-direct']").get_by_role("link", name="Order").click()
    expect(client.get_by_role("heading", level=1)).to_have_text(
        "Direct connection to your computer"
    )
    first_time = client.locator("input[name='starts_at']").first
    chosen = first_time.get_attribute("value")
    first_time.check()
    client.get_by_label("What is the problem").fill(
        "The December charges do not add up: the totals differ from last month."
    )
    client.get_by_label("Contact phone").fill("+7 495 123-45-67")
    client.get_by_label("I have made a fresh backup of the data").check()
    client.get_by_label("I agree to pay for the time the consultant spends").check()
    client.get_by_role("button", name="Book the session").click()
    expect(client.get_by_text(re.compile(r"^Booked for "))).to_be_visible()
    session_url = client.url

    desk = make_page()
    sign_in(desk, portal, staff_email)
    desk.goto(f"{portal}/staff/sessions?day={chosen[:10]}&lang=en")
    desk.locator("table.day-plan tbody tr").last.locator("td a").first.click()
    desk.get_by_label("Time spent").fill("1.5")
    desk.get_by_label("What was done").fill("Corrected the December charges")
    desk.get_by_role("button", name="Log the time").click()
    expect(desk.get_by_role("heading", name="Time spent: 1 h 30 min")).to_be_visible()
    desk.get_by_role("button", name="Close and invoice").click()
    expect(desk.locator("[data-total='5950.00']")).to_be_visible()

    client.goto(session_url)
    invoice = client.get_by_role("link", name=re.compile(r"The invoice: 5,950.00"))
    expect(invoice).to_be_visible()
    invoice.click()
    expect(client.get_by_text("5,950.00 RUB").first).to_be_visible()
    expect(client.get_by_text(re.compile("Connection to remote support"))).to_be_visible()
