"""Buying a plan in a real browser: registration, the order, Stripe's test Checkout, the invoice.

The portal runs with its own outbox and the session's ``stripe_server`` (a
Stripe-compatible server on loopback) as its Stripe. Pressing Pay on the test
Checkout page makes that server POST the signed event to the portal's webhook,
as Stripe does, before it sends the browser back to the portal.

The servers keep the real clock: amounts and days are compared with what
``portal.plans`` computes for today.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from portal.accounts import services as accounts
from portal.clock import utc_now
from portal.extensions import db
from portal.plans import load_catalog, parse_quote_request, quote

pytestmark = pytest.mark.browser

WEBHOOK = "/billing/stripe/webhook"
PASSWORD = "correct horse battery"
DECLINED_CARD = "4000000000000002"
PDF_SIGNATURE = b"%PDF"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The webhook and the return from Checkout arrive within a few polls of #order-status.
PAYMENT_TIMEOUT_MS = 10_000
# The in-process worker delivers mail within a second or two of the commit.
MAIL_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Portal:
    """A live KBS portal paying through ``stripe_server`` and mailing into ``outbox``."""

    url: str
    outbox: Path

    def mails_to(self, email: str, at_least: int = 1) -> list[EmailMessage]:
        """The mail delivered to ``email``, oldest first (file names sort by time), once there
        are ``at_least`` of them: the portal's own worker delivers it a moment after the page."""
        deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
        while True:
            found = self._delivered(email)
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def _delivered(self, email: str) -> list[EmailMessage]:
        if not self.outbox.is_dir():
            return []
        parse = BytesParser(policy=policy.default).parsebytes
        messages = [parse(path.read_bytes()) for path in sorted(self.outbox.glob("*.eml"))]
        return [m for m in messages if email in str(m["To"])]


@pytest.fixture(scope="session")
def billing_outbox(tmp_path_factory) -> Path:
    """One outbox for the session, so that the tests of this file share one portal."""
    return tmp_path_factory.mktemp("billing-outbox")


@pytest.fixture
def portal(live_server, stripe_server, billing_outbox) -> Iterator[Portal]:
    """The portal with cards on, and the Stripe server delivering its events to it.

    Both sides sign with the Stripe server's own ``whsec_`` secret; the webhook URL
    goes back to None afterwards, since other tests share the server.
    """
    url = live_server(
        "kbs",
        OUTBOX_DIR=str(billing_outbox),
        STRIPE_SECRET_KEY=stripe_server.secret_key,
        STRIPE_API_BASE=stripe_server.url,
        STRIPE_WEBHOOK_SECRET=stripe_server.webhook_secret,
    )
    stripe_server.configure(webhook_url=url + WEBHOOK, webhook_secret=stripe_server.webhook_secret)
    try:
        yield Portal(url, billing_outbox)
    finally:
        stripe_server.configure(webhook_url=None)


def new_email(who: str) -> str:
    return f"{who}-{secrets.token_hex(4)}@example.com"


def engine_coverage(plan: str, term: str) -> tuple[str, tuple[date, date]]:
    """The total and the coverage the engine gives a new client today."""
    catalog = load_catalog("kbs")
    today = datetime.now(ZoneInfo(catalog.timezone)).date()
    priced = quote(
        catalog, parse_quote_request(catalog, {"plan": plan, "term": term}, today), today
    )
    return str(priced.total), priced.coverage


def confirmation_link(portal: Portal, email: str) -> str:
    """The link in the newest mail to ``email``, read as a person reads it."""
    mails = portal.mails_to(email)
    assert mails, f"no mail to {email} in {portal.outbox}"
    newest = mails[-1]
    text = newest.get_body(preferencelist=("plain",)).get_content()
    (link,) = re.findall(r"https?://\S+/confirm/\S+", text)
    assert link.startswith(portal.url + "/"), link
    return link


def register_and_confirm(page: Page, portal: Portal, organization: str, email: str) -> None:
    """Register an organization in English, then follow the link in the confirmation mail."""
    page.goto(portal.url + "/register?lang=en")
    page.get_by_label("Organization").fill(organization)
    page.get_by_label("Your name").fill("Olena Kovalenko")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    expect(page.get_by_role("combobox", name="Language")).to_have_value("en")
    page.get_by_role("checkbox", name=re.compile("I accept the terms")).check()

    page.get_by_role("button", name="Register").click()

    expect(page).to_have_url(re.compile(r"/register/sent$"))
    expect(page.get_by_text(email).first).to_be_visible()
    page.goto(confirmation_link(portal, email))
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("Your e-mail address is confirmed. Welcome!")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(organization)


def choose_on_the_plans_page(page: Page, portal: Portal, plan: str, term: str, total: str) -> None:
    """Pick ``term`` (htmx reprices), see ``total`` for ``plan``, and click its Choose link."""
    page.goto(portal.url + "/plans")
    page.select_option("select[name=term]", term)
    price = page.locator(f'tbody.prices td[data-plan="{plan}"] .price[data-total="{total}"]')
    expect(price).to_be_visible()
    choose = page.locator(f"[data-choose={plan}]")
    expect(choose).to_have_attribute("href", re.compile(rf"[?&]term={term}(&|$)"))

    choose.click()

    expect(page).to_have_url(re.compile(rf"/orders/new\?.*plan={plan}"))


def confirm_the_order(page: Page, total: str) -> str:
    """See ``total`` on the summary, confirm it: the order page's address."""
    summary_total = page.locator(".order-summary .quote-lines [data-total]")
    expect(summary_total).to_have_attribute("data-total", total)
    page.get_by_role("button", name="Confirm the order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "pending_payment")
    expect(page.locator("#order-status")).to_contain_text("Awaiting payment")
    return page.url


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    path = artifacts / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_a_new_client_registers_confirms_orders_optima_for_7_months_and_pays_by_card(
    page, portal, stripe_server, artifacts
):
    email = new_email("card")
    total, (start, end) = engine_coverage("optima", "7m")
    assert total == "40740.00"
    register_and_confirm(page, portal, "Zori Card LLC", email)

    choose_on_the_plans_page(page, portal, "optima", "7m", total)

    expect(page.locator(".order-summary .quote-lines [data-total]")).to_have_text(
        re.compile(r"40[\s,\u00a0\u202f]?740")
    )
    screenshot(page, artifacts, "billing-order-summary-kbs-en")
    order_url = confirm_the_order(page, total)
    order_path = order_url.removeprefix(portal.url)

    page.locator("[data-pay=card]").click()

    expect(page).to_have_url(re.compile(re.escape(stripe_server.url) + r"/checkout/cs_test_\w+$"))
    expect(page.get_by_role("heading", name="Test checkout")).to_be_visible()
    expect(page.locator("#amount")).to_have_text("40740.00 UAH")

    page.get_by_role("button", name="Pay").click()

    expect(page).to_have_url(
        re.compile(re.escape(portal.url + order_path) + r"/paid\?session_id=cs_test_\w+$")
    )
    expect(page.locator("#order-status[data-status=fulfilled]")).to_be_visible(
        timeout=PAYMENT_TIMEOUT_MS
    )
    expect(page.locator("#order-status")).to_contain_text("Paid, period active")

    page.locator("#order-status").get_by_role("link", name="Go to your account").click()

    expect(page).to_have_url(re.compile(r"/account$"))
    optima = page.locator("article.subscription[data-plan=optima]")
    expect(optima).to_have_count(1)
    expect(optima.locator("[data-days-left]")).to_have_attribute(
        "data-days-left", str((end - start).days + 1)
    )
    expect(optima.locator("table.renewals tr[data-renewal]").first).to_be_visible()
    expect(optima.get_by_role("link", name="Renew").first).to_be_visible()
    expect(
        page.locator(f"table.orders tr[data-status=fulfilled] a[href='{order_path}']")
    ).to_be_visible()
    screenshot(page, artifacts, "billing-account-kbs-en")


def test_the_bank_transfer_path_ends_with_staff_marking_the_invoice_paid(
    page, make_page, portal, live_server, artifacts
):
    email = new_email("transfer")
    total, _coverage = engine_coverage("premium", "3m")
    register_and_confirm(page, portal, "Zori Transfer LLC", email)
    choose_on_the_plans_page(page, portal, "premium", "3m", total)
    order_url = confirm_the_order(page, total)
    # An invoice names the payer by its tax number and address: the order says where to add them.
    page.get_by_role("link", name="Add them to your organization's details").click()
    page.get_by_label("Tax number").fill("38123456")
    page.get_by_label("Legal address").fill("1 Khreshchatyk St, Kyiv 01001")
    page.get_by_role("button", name="Save the details").click()
    expect(page.get_by_text("The organization's details are saved.")).to_be_visible()
    page.goto(order_url)

    page.locator("[data-pay=bank-transfer]").click()

    notice = page.get_by_role("status").filter(has_text=re.compile(r"Invoice INV-"))
    expect(notice).to_contain_text(f"is issued; it is on its way to {email}")
    number = re.search(r"INV-[\w-]+", notice.inner_text()).group(0)
    download = page.locator("[data-document=invoice]")
    expect(download).to_have_text(f"Download invoice {number} (PDF)")
    expect(page.locator("[data-pay=card]")).to_have_count(0)

    response = page.request.get(portal.url + download.get_attribute("href"))

    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in response.headers["content-disposition"]
    assert response.body().startswith(PDF_SIGNATURE)
    mail = portal.mails_to(email, at_least=2)[-1]  # after the confirmation, the invoice
    assert number in mail["Subject"] or number in mail.get_body(("plain",)).get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(PDF_SIGNATURE)

    # The provider's staff see the transfer arrive and mark the invoice paid.
    desk = make_page()
    staff_email = make_staff(live_server.app_of(portal.url))
    desk.goto(portal.url + "/login?lang=en")
    desk.get_by_label("E-mail").fill(staff_email)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_role("navigation", name="Account").get_by_role("link", name="Invoices").click()
    asked = []
    desk.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    desk.locator(f"[data-mark-paid='{number}']").click()
    expect(desk.locator(".flashes")).to_contain_text(f"Invoice {number} is paid")
    assert "The period starts at once." in asked[0]
    desk.get_by_role("navigation", name="Show").get_by_role("link", name="Paid").click()
    expect(desk.locator(f"tr[data-invoice='{number}']")).to_contain_text("marked paid by")

    # The client's account now shows the period and its renewal at loyalty prices.
    page.goto(portal.url + "/account")
    premium = page.locator("article.subscription[data-plan=premium]")
    expect(premium).to_be_visible()
    expect(premium.locator("tr[data-renewal='3m'] .badge")).to_have_text("loyalty price")
    screenshot(page, artifacts, "billing-account-after-transfer-kbs-en")


def make_staff(app) -> str:
    """A staff account in the live portal's database: its address (the password is PASSWORD)."""
    email = new_email("desk")
    with app.app_context():
        accounts.create_user(
            db.session, email=email, name="Desk", password=PASSWORD, role="staff", now=utc_now()
        )
    return email


def test_a_declined_card_leaves_the_order_awaiting_payment(page, portal, stripe_server):
    email = new_email("declined")
    total, _coverage = engine_coverage("optima", "7m")
    register_and_confirm(page, portal, "Zori Declined LLC", email)
    choose_on_the_plans_page(page, portal, "optima", "7m", total)
    order_url = confirm_the_order(page, total)
    page.locator("[data-pay=card]").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_server.url) + r"/checkout/cs_test_\w+$"))

    page.get_by_label("Card number").fill(DECLINED_CARD)
    page.get_by_role("button", name="Pay").click()

    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    expect(page).to_have_url(re.compile(re.escape(stripe_server.url) + r"/checkout/cs_test_\w+$"))

    page.get_by_role("link", name="Cancel").click()

    expect(page).to_have_url(order_url)
    expect(page.get_by_text("The card payment was not completed.")).to_be_visible()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "pending_payment")
    expect(page.locator("#order-status")).to_contain_text("Awaiting payment")
    expect(page.locator("[data-pay=card]")).to_be_visible()
