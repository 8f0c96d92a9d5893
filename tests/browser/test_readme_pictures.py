"""The README's pictures, made from the demo office so that they stay current.

Each run writes them to ``test-artifacts/readme/``; ``docs/screenshots/`` holds the copies the
README shows (refresh them with ``cp test-artifacts/readme/*.png docs/screenshots/``). The test
also checks that each picture shows what the README says it shows.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect

from portal.catalog.current import current_catalog
from portal.clock import today_in
from portal.demo import services as demo
from portal.extensions import db
from portal.models import Document, Order

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_office(live_server, tmp_path_factory):
    url = live_server("kbs", OUTBOX_DIR=str(tmp_path_factory.mktemp("readme-outbox")))
    with live_server.app_of(url).app_context():
        catalog = current_catalog()
        accounts = demo.load(db.session, catalog, today_in(catalog.timezone))
        order_id = db.session.query(Order.id).order_by(Order.id.desc()).first()[0]
        invoice = db.session.query(Document).filter(Document.order_id == order_id).one()
    return url, accounts, order_id, invoice.id


def test_the_readme_pictures(live_server, make_page, artifacts, demo_office):
    url, accounts, order_id, invoice_id = demo_office
    folder = artifacts / "readme"
    folder.mkdir(parents=True, exist_ok=True)

    for name, viewport, path in (
        ("compare-uk-desktop", {"width": 1280, "height": 900}, "/plans?term=7m&lang=uk"),
        ("compare-uk-phone", {"width": 360, "height": 640}, "/plans?term=7m&lang=uk"),
    ):
        page = make_page(viewport=viewport)
        page.goto(url + path)
        expect(page.locator(".price:visible", has_text="40 740,00 ₴").first).to_be_visible()
        page.screenshot(path=str(folder / f"{name}.png"))
    for name, viewport in (
        ("compare-fa-desktop", {"width": 1280, "height": 900}),
        ("compare-fa-phone", {"width": 360, "height": 640}),
    ):
        page = make_page(viewport=viewport)
        page.goto(live_server("iotex") + "/plans?licence_value=1000000000&lang=fa")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.screenshot(path=str(folder / f"{name}.png"))

    owner = next(a for a in accounts if a.email.startswith("client4@"))  # an open invoice
    page = make_page(viewport={"width": 1280, "height": 1000})
    page.goto(url + "/login?lang=uk")
    page.locator("input[name=email]").fill(owner.email)
    page.locator("input[name=password]").fill(owner.password)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile("/login"))
    page.goto(url + f"/orders/{order_id}?lang=uk")
    expect(page.locator("#bank-details")).to_contain_text("UA223052990000026001234567890")
    page.screenshot(path=str(folder / "order-uk.png"), full_page=True)
    pdf = page.request.get(url + f"/documents/{invoice_id}.pdf?lang=uk")
    assert pdf.headers["content-type"] == "application/pdf"
    rendered = pdfium.PdfDocument(pdf.body())[0].render(scale=1.5).to_pil()
    rendered.save(folder / "invoice-uk.png")

    ending = next(a for a in accounts if a.email.startswith("client1@"))
    page = make_page(viewport={"width": 360, "height": 640})
    page.goto(url + "/login?lang=uk")
    page.locator("input[name=email]").fill(ending.email)
    page.locator("input[name=password]").fill(ending.password)
    page.locator("main form button[type=submit]").click()
    page.goto(url + "/account?lang=uk")
    expect(page.locator(".list-price").first).to_be_visible()
    page.screenshot(path=str(folder / "account-uk-phone.png"), full_page=True)
