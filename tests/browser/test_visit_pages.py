"""An on-site visit in a real browser (issue 12): an Iotex standard client books a 4-hour block
from the week of free slots, sees the quota bar drop to 0 h left, and receives the mail with
the visit's calendar file, which parses with the icalendar package.

The server keeps the real clock: the block booked is the first free one offered, whatever
day the test runs.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import icalendar
import pytest
from playwright.sync_api import Page, expect

from portal.accounts import services as accounts
from portal.clock import today_in, utc_now
from portal.extensions import db
from portal.models import Technician
from tests.seed import give_plan

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
MAIL_TIMEOUT_SECONDS = 15


@pytest.fixture(scope="module")
def outbox(tmp_path_factory):
    return tmp_path_factory.mktemp("visits-outbox")


@pytest.fixture(scope="module")
def portal(live_server, outbox):
    return live_server("iotex", OUTBOX_DIR=str(outbox))


def standard_client(app) -> str:
    """A standard client in Tehran with a year's period from today, and a technician."""
    email = f"client-{secrets.token_hex(4)}@example.com"
    with app.app_context():
        registration = accounts.Registration(
            organization=accounts.OrganizationProfile(
                name=f"Sina {secrets.token_hex(2)}",
                language="en",
                timezone="Asia/Tehran",
                tax_number="10101234567",
                address="Valiasr St 12, Tehran",
            ),
            name="Sara Ahmadi",
            email=email,
            password=PASSWORD,
        )
        owner = accounts.register(db.session, registration, utc_now())
        accounts.confirm_email(db.session, owner, utc_now())
        today = today_in("Asia/Tehran")
        give_plan(
            db.session,
            owner.organization_id,
            "standard",
            today,
            today + timedelta(days=364),
            catalog="iotex",
            term="1y",
        )
        technician = accounts.create_user(
            db.session,
            email=f"tech-{secrets.token_hex(4)}@example.com",
            name="Reza",
            password=PASSWORD,
            role="staff",
            now=utc_now(),
        )
        db.session.add(
            Technician(user_id=technician.id, catalog="iotex", region="area", created_at=utc_now())
        )
        db.session.commit()
    return email


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def calendar_mail(outbox, email):
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    parse = BytesParser(policy=policy.default).parsebytes
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")):
            message = parse(path.read_bytes())
            if email in str(message["To"]):
                for part in message.iter_attachments():
                    if part.get_filename() == "visit.ics":
                        return message, icalendar.Calendar.from_ical(part.get_content())
        time.sleep(0.1)
    raise AssertionError(f"no calendar file mailed to {email}")


def test_a_standard_client_books_four_hours_and_its_quota_drops_to_nothing(
    portal, live_server, make_page, outbox
):
    email = standard_client(live_server.app_of(portal))
    page = make_page()
    sign_in(page, portal, email)
    page.get_by_role("link", name="Visits").first.click()
    expect(page.get_by_test_id("hours-left")).to_have_text("4 of 4 h left")
    page.get_by_role("link", name="Book a visit").click()
    expect(page.get_by_test_id("visit-price")).to_contain_text("Free: 4 h")

    # The week's free blocks; the next week through htmx when this one has none left.
    slots = page.locator(".week-day .slot input[name='when']")
    if slots.count() == 0:
        page.get_by_role("link", name="Next week →").click()
        expect(slots.first).to_be_visible()
    slots.first.check()
    page.get_by_label("Address").fill("Valiasr St 12, Tehran")
    page.get_by_label("What the technician is to do").fill("Set up the new cash register.")
    page.get_by_role("button", name="Book the visit").click()

    expect(page.get_by_role("status")).to_contain_text("Booked")
    expect(page.get_by_test_id("when")).to_be_visible()
    page.get_by_role("link", name="On-site visits").click()
    expect(page.get_by_test_id("hours-left")).to_have_text("0 of 4 h left")
    assert page.locator("meter.meter").first.get_attribute("value") == "0"

    message, calendar = calendar_mail(outbox, email)
    assert message["Subject"].startswith("Visit booked:")
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=4)
