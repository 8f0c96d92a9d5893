"""Ordering a plan, paying by bank transfer, the period, renewals and upgrades on the account page.

The tests' clock stands at 2026-11-22 09:00 UTC; the KBS catalog (UAH, Kyiv).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from conftest import PASSWORD
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import formatting
from portal.catalog import services as catalog_services
from portal.clock import now
from portal.extensions import db
from portal.models import Document, Order, SubscriptionPeriod
from portal.plans.loading import bundled_catalog_path

FIXED_NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def later(app, **delta) -> None:
    app.config["CLOCK"] = lambda: FIXED_NOW + timedelta(**delta)


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme", "owner@acme.example", members=["member@acme.example"])


@pytest.fixture
def staff(make_user):
    """A staff member, not signed in on the test's client (the client is the organization's)."""
    return make_user("staff@example.com", role="staff")


@pytest.fixture
def globex(make_organization):
    return make_organization("Globex", "owner@globex.example")


def totals(html: str) -> list[Decimal]:
    return [Decimal(value) for value in re.findall(r'data-total="([^"]+)"', html)]


def place(forms, **params):
    """Open the order summary for ``params`` and confirm it; the order page's response."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    summary = forms.client.get(f"/orders/new?{query}&lang=en")
    assert summary.status_code == 200, summary.get_data(as_text=True)
    html = summary.get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    hidden.pop("csrf_token", None)
    return forms.submit(f"/orders/new?{query}&lang=en", "/orders", hidden)


def pdf_text(forms, document_id: int) -> str:
    """The text of a document's PDF, as its reader downloads it, spaces folded."""
    pdf = PdfReader(BytesIO(forms.client.get(f"/documents/{document_id}.pdf").data))
    return " ".join(" ".join(page.extract_text() for page in pdf.pages).split())


def only(app, model):
    with app.app_context():
        rows = db.session.scalars(select(model)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def pay_by_invoice(forms, app, order_id: int) -> Document:
    response = forms.submit(f"/orders/{order_id}", f"/orders/{order_id}/invoice")
    assert response.status_code == 303
    (invoice,) = [d for d in only(app, Document) if d.order_id == order_id]
    return invoice


def mark_paid(app, invoice_id: int, staff_id: int) -> None:
    from portal.billing import invoices

    with app.app_context():
        invoices.mark_invoice_paid(db.session, invoice_id, staff_user_id=staff_id, now=now())


# --- choosing and locking the price -----------------------------------------------------------


def test_the_comparison_page_offers_to_choose_each_plan_sold_online(client):
    html = client.get("/plans?term=7m&lang=en").get_data(as_text=True)
    for plan in ("prof", "optima", "premium"):
        assert f'data-choose="{plan}"' in html
    assert "/orders/new?plan=optima&amp;term=7m" in html


def test_choosing_signed_out_asks_to_sign_in_first(client):
    response = client.get("/orders/new?plan=optima&term=7m")
    assert response.status_code == 302
    assert "/login" in response.location and "next=" in response.location


def test_the_summary_shows_the_engine_price_and_the_catalog_version(forms, acme):
    forms.sign_in(acme.owner.email)
    response = forms.client.get("/orders/new?plan=optima&term=7m&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert Decimal("40740.00") in totals(html)
    assert "version 1" in html
    assert "22 November 2026" in html and "21 June 2027" in html


@pytest.mark.parametrize(
    ("query", "says"),
    [
        pytest.param(
            "plan=optima&term=7m",
            "40,740.00 UAH instead of 7 × 6,420.00 UAH = 44,940.00 UAH: you save 4,200.00 UAH",
            id="the saving against paying month by month",
        ),
        pytest.param(
            "plan=prof&term=budget:2026",
            "This budget year costs more than the 2 months left in it: 4,920.00 UAH.",
            id="a budget year dearer than the months left",
        ),
    ],
)
def test_the_summary_says_what_the_choice_saves_or_costs(forms, acme, query, says):
    forms.sign_in(acme.owner.email)
    html = forms.client.get(f"/orders/new?{query}&lang=en").get_data(as_text=True)
    assert says in html.replace("\xa0", " ")  # amounts keep their currency on the same line


def test_the_summary_names_who_is_billed_and_what_an_invoice_still_needs(forms, make_organization):
    newcomer = make_organization("Zoria", "owner@zoria.example", tax_number=None, address=None)
    forms.sign_in(newcomer.owner.email)
    html = forms.client.get("/orders/new?plan=optima&term=7m&lang=en").get_data(as_text=True)
    assert "Billed to Zoria." in html
    assert "An invoice needs your tax number and legal address" in html


def test_no_invoice_without_the_payers_tax_number_and_address(app, forms, make_organization):
    newcomer = make_organization("Zoria", "owner@zoria.example", tax_number=None, address=None)
    forms.client.set_cookie("lang", "en")
    forms.sign_in(newcomer.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    page = forms.client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "data-invoice-needs-details" in page and 'data-pay="bank-transfer"' not in page
    refused = forms.submit(f"/orders/{order.id}", f"/orders/{order.id}/invoice")
    assert refused.status_code == 409
    assert "names your organization by its tax number and legal address" in refused.get_data(
        as_text=True
    )
    assert only(app, Document) == []


def test_confirming_locks_the_quote_into_an_order(app, forms, acme):
    forms.sign_in(acme.owner.email)
    response = place(forms, plan="optima", term="7m")
    assert response.status_code == 303
    (order,) = only(app, Order)
    assert response.location.endswith(f"/orders/{order.id}")
    assert (order.plan, order.term, order.status) == ("optima", "7m", "pending_payment")
    assert (order.total, order.currency, order.catalog_version) == (Decimal("40740"), "UAH", 1)
    assert (order.coverage_start, order.coverage_end) == (date(2026, 11, 22), date(2027, 6, 21))
    page = forms.client.get(f"/orders/{order.id}?lang=uk").get_data(as_text=True)
    assert "ОПТИМА, 7 місяців" in page  # the line as locked, in Ukrainian
    assert "22 листопада 2026, 11:00" in page  # 09:00 UTC, on the organization's Kyiv clock
    persian = forms.client.get(f"/orders/{order.id}?lang=fa").get_data(as_text=True)
    assert f"<h1>سفارش {formatting.digits(str(order.id), 'fa')}:" in persian


def test_a_price_changed_after_ordering_does_not_change_the_order(app, forms, acme):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    with app.app_context():
        source = catalog_services.versions(db.session, "kbs")[-1].source
        catalog_services.publish(
            db.session, source.replace("40740", "41740"), "test: a new price", now()
        )
    catalog_services.forget_newest()
    (order,) = only(app, Order)
    html = forms.client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert totals(html) == [Decimal("40740.00")]
    assert Decimal("41740.00") in totals(
        forms.client.get("/orders/new?plan=optima&term=7m").get_data(as_text=True)
    )


def test_a_summary_shown_before_a_price_change_asks_to_confirm_the_new_price(app, forms, acme):
    forms.sign_in(acme.owner.email)
    stale = {"plan": "optima", "term": "7m", "seen_total": "40740.00"}
    with app.app_context():
        source = catalog_services.versions(db.session, "kbs")[-1].source
        catalog_services.publish(db.session, source.replace("40740", "41740"), "test", now())
    catalog_services.forget_newest()
    response = forms.submit("/orders/new?plan=optima&term=7m&lang=en", "/orders", stale)
    assert response.status_code == 409
    assert "prices changed" in response.get_data(as_text=True)
    assert count(app, Order) == 0


def test_confirmations_sent_at_the_same_moment_place_one_order(app, acme, form_client):
    """A double tap on a slow line: four confirmations race, one order awaits payment."""
    browsers = [form_client(app.test_client()) for _ in range(4)]
    forms_ = []
    for browser in browsers:
        browser.client.set_cookie("lang", "en")
        browser.sign_in(acme.owner.email)
        token = browser.token("/orders/new?plan=prof&term=3m")
        forms_.append({"csrf_token": token, "plan": "prof", "term": "3m", "seen_total": "7380.00"})
    start = threading.Barrier(len(browsers))
    answers: list[int] = []

    def confirm(browser, form):
        start.wait()
        answers.append(browser.client.post("/orders", data=form).status_code)

    threads = [
        threading.Thread(target=confirm, args=pair) for pair in zip(browsers, forms_, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [303, 409, 409, 409]
    assert [o.status for o in only(app, Order)] == ["pending_payment"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("plan=optima&term=13m", "months must be 1..12", id="a 13-month term"),
        pytest.param("plan=gold&term=7m", "gold", id="an unknown plan"),
        pytest.param("plan=optima&term=7m&start=2026-01-01", "has passed", id="a past start"),
        pytest.param("plan=optima", "term", id="no term"),
    ],
)
def test_an_order_the_engine_refuses_gets_a_clear_400(forms, acme, query, message):
    forms.sign_in(acme.owner.email)
    response = forms.client.get(f"/orders/new?{query}&lang=en")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_second_order_waits_for_the_first_to_be_paid_or_cancelled(app, forms, acme):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    response = place(forms, plan="premium", term="3m")
    assert response.status_code == 409
    assert "Another order is awaiting payment" in response.get_data(as_text=True)
    assert count(app, Order) == 1


# --- paying by bank transfer ------------------------------------------------------------------


def test_an_invoice_is_numbered_mailed_with_its_pdf_and_paid_by_staff(
    app, forms, acme, staff, mails
):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    assert (invoice.number, invoice.status, invoice.due_on) == (
        "INV-000001",
        "open",
        date(2026, 12, 2),
    )
    (mail,) = [m for m in mails() if "INV-000001" in m["Subject"]]
    attachments = [part for part in mail.iter_attachments()]
    assert attachments[0].get_filename() == "INV-000001.pdf"
    assert attachments[0].get_content().startswith(b"%PDF")
    pdf = forms.client.get(f"/documents/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert count(app, SubscriptionPeriod) == 0

    mark_paid(app, invoice.id, staff.id)
    mark_paid(app, invoice.id, staff.id)  # twice: still one period
    (period,) = only(app, SubscriptionPeriod)
    assert (period.plan, period.start, period.end) == (
        "optima",
        date(2026, 11, 22),
        date(2027, 6, 21),
    )
    (order,) = only(app, Order)
    assert order.status == "fulfilled"


def test_a_paid_invoice_is_stamped_paid_and_asks_for_no_payment(app, forms, acme, staff):
    forms.client.set_cookie("lang", "en")
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    before = pdf_text(forms, invoice.id)
    assert "Please state INV-000001 as the payment reference." in before
    assert "this invoice expires and the order is cancelled" in before

    mark_paid(app, invoice.id, staff.id)
    after = pdf_text(forms, invoice.id)
    assert "PAID" in after
    assert "payment reference" not in after and "expires" not in after


def test_asking_for_the_invoice_again_mails_it_once(app, forms, acme, staff, mails):
    forms.client.set_cookie("lang", "en")
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    again = forms.submit(f"/orders/{order.id}", f"/orders/{order.id}/invoice")
    assert again.status_code == 303
    assert len([m for m in mails() if "INV-000001" in m["Subject"]]) == 1
    mark_paid(app, invoice.id, staff.id)
    paid = forms.submit(f"/orders/{order.id}", f"/orders/{order.id}/invoice")
    assert paid.status_code == 409
    assert "This order is no longer awaiting payment." in paid.get_data(as_text=True)
    assert [d.number for d in only(app, Document)] == ["INV-000001"]


def kbs_without_bank_details(folder: Path) -> str:
    """The KBS catalog as a file whose provider names no bank account, logo beside it."""
    text = bundled_catalog_path("kbs").read_text(encoding="utf-8")
    start = text.index("[provider.bank]")
    end = text.index("[provider.vat]")
    path = folder / "kbs.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    (folder / "kbs.svg").write_bytes(bundled_catalog_path("kbs").with_name("kbs.svg").read_bytes())
    return str(path)


@pytest.mark.parametrize(
    ("bank", "warned"),
    [
        pytest.param(False, True, id="no bank details in the catalog: the client is told to ask"),
        pytest.param(True, False, id="the catalog's bank details on the page and the PDF"),
    ],
)
def test_an_invoice_without_the_suppliers_bank_details_says_so(
    make_app, make_organization, form_client, tmp_path, bank, warned
):
    app = make_app(**({} if bank else {"PORTAL_CATALOG": kbs_without_bank_details(tmp_path)}))
    acme = make_organization("Acme", "owner@acme.example")
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    page = forms.client.get(f"/orders/{order.id}").get_data(as_text=True)
    note = "The supplier's bank details are not on this invoice yet: ask SOFTCOM LLC"
    assert (note in page.replace("&#39;", "'")) is warned
    assert ('id="bank-details"' in page) is not warned
    assert ("IBAN: UA223052990000026001234567890" in page) is not warned
    text = pdf_text(forms, invoice.id)
    assert ("bank details are not on this invoice yet" in text) is warned
    assert ("UA223052990000026001234567890" in text) is not warned


@pytest.mark.parametrize(
    ("language", "says"),
    [
        pytest.param(
            "uk",
            [
                "ТОВ «СОФТКОМ»",
                "Код ЄДРПОУ: 38123450",
                "вул. Хрещатик, 12, оф. 4, м. Київ, 01001",
                "IBAN: UA223052990000026001234567890",
                "Банк: АТ КБ «ПриватБанк»",
                "МФО: 305299",
                "Без ПДВ",
                "Сорок тисяч сімсот сорок гривень 00 копійок",
            ],
            id="in Ukrainian: the supplier, its bank, no VAT, the total in words",
        ),
        pytest.param(
            "ru",
            ["Код ЕГРПОУ: 38123450", "Без НДС", "Сорок тысяч семьсот сорок гривен 00 копеек"],
            id="in Russian: the total in Russian words",
        ),
        pytest.param(
            "kk",
            ["Қырық мың жеті жүз қырық UAH 00"],
            id="in Kazakh: words, the currency by its code where num2words has no name",
        ),
        pytest.param(
            "en",
            ["SOFTCOM LLC", "EDRPOU code: 38123450", "Without VAT", "MFO: 305299"],
            id="in English: the details, no total in words",
        ),
    ],
)
def test_an_invoice_carries_what_a_bookkeeper_needs(app, forms, acme, language, says):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    forms.client.set_cookie("lang", language)
    text = pdf_text(forms, invoice.id)
    for part in says:
        assert part in text
    if language == "en":
        assert "forty" not in text.lower()


def test_an_invoice_downloads_under_its_number_and_opens_on_asking(app, forms, acme):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    downloaded = forms.client.get(f"/documents/{invoice.id}.pdf")
    opened = forms.client.get(f"/documents/{invoice.id}.pdf?open=1")
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert opened.headers["Content-Disposition"] == 'inline; filename="INV-000001.pdf"'
    page = forms.client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert 'download="INV-000001.pdf"' in page
    assert f'href="/documents/{invoice.id}.pdf?open=1"' in page


def test_staff_mark_an_invoice_paid_on_their_page(app, forms, acme, staff, form_client):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    desk = form_client(app.test_client())
    desk.sign_in(staff.email)
    listed = desk.client.get("/staff/invoices?lang=en").get_data(as_text=True)
    assert 'data-invoice="INV-000001"' in listed
    response = desk.submit("/staff/invoices", f"/staff/invoices/{invoice.id}/paid")
    assert response.status_code == 303
    (paid,) = only(app, Document)
    assert paid.status == "paid" and paid.paid_by_id == staff.id
    assert count(app, SubscriptionPeriod) == 1


def test_an_unpaid_invoice_expires_and_its_order_is_cancelled(app, forms, acme, runner):
    forms.client.set_cookie("lang", "en")
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    pay_by_invoice(forms, app, order.id)
    later(app, days=10)
    assert (
        "0 invoice(s) expired"
        in app.test_cli_runner().invoke(args=["billing", "expire-invoices"]).output
    )
    later(app, days=11)
    result = app.test_cli_runner().invoke(args=["billing", "expire-invoices"])
    assert "INV-000001 expired" in result.output
    (order,) = only(app, Order)
    (invoice,) = only(app, Document)
    assert (order.status, invoice.status) == ("cancelled", "expired")
    assert "EXPIRED: unpaid by 2 December 2026" in pdf_text(forms, invoice.id)


def test_a_cancelled_orders_invoice_reads_void(app, forms, acme):
    forms.client.set_cookie("lang", "en")
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    assert forms.submit(f"/orders/{order.id}", f"/orders/{order.id}/cancel").status_code == 303
    assert "VOID: the order was cancelled" in pdf_text(forms, invoice.id)


# --- the account page: the period, its renewals and upgrades ----------------------------------


def paid_optima_7m(app, forms, acme, staff):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    invoice = pay_by_invoice(forms, app, order.id)
    mark_paid(app, invoice.id, staff.id)


def renewal_totals(html: str) -> dict[str, Decimal]:
    return {
        term: Decimal(total)
        for term, total in re.findall(
            r'data-renewal="([^"]+)">.*?data-total="([^"]+)"', html, flags=re.S
        )
    }


def test_the_account_shows_the_period_its_days_and_loyalty_renewals(app, forms, acme, staff):
    paid_optima_7m(app, forms, acme, staff)
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert 'data-plan="optima"' in html
    assert 'data-days-left="212"' in html
    assert "up to 3 hours" in html or "3 h" in html
    offers = renewal_totals(html)
    assert offers["12m"] == Decimal("60120.00")  # loyalty
    assert offers["3m"] == Decimal("16830.00")
    assert offers["7m"] == Decimal("40740.00")  # no loyalty price for 7 months
    assert "22 June 2027" in html  # renewal prices hold for a start by then


def test_a_renewal_into_a_budget_year_dearer_than_its_months_says_so(app, forms, acme, staff):
    paid_optima_7m(app, forms, acme, staff)  # ends 2027-06-21: 7 months cover the rest of 2027
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    row = re.search(r'data-renewal="budget:2027">(.*?)</tr>', html, flags=re.S).group(1)
    row = row.replace("\xa0", " ")
    assert "This budget year costs more than the 7 months left in it: 40,740.00 UAH." in row


def test_a_gapped_renewal_is_offered_at_list_prices(app, forms, acme, staff):
    paid_optima_7m(app, forms, acme, staff)
    later(app, days=213)  # 2027-06-23: two days after the end
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    offers = renewal_totals(html)
    assert offers["12m"] == Decimal("69840.00")
    assert "list prices" in html


def test_renewing_early_starts_the_day_after_the_period_at_the_loyalty_price(
    app, forms, acme, staff
):
    paid_optima_7m(app, forms, acme, staff)
    later(app, days=190)
    place(forms, plan="optima", term="12m")
    renewal = next(o for o in only(app, Order) if o.kind == "renewal")
    assert (renewal.coverage_start, renewal.total) == (date(2027, 6, 22), Decimal("60120"))


@pytest.mark.parametrize(
    ("plan", "term", "total", "start"),
    [
        pytest.param("optima", "12m", "60120.00", date(2027, 6, 22), id="the same plan: loyalty"),
        pytest.param("premium", "7m", "65940.00", date(2027, 6, 22), id="another plan: list"),
    ],
)
def test_a_client_with_a_period_compares_the_prices_an_order_would_charge(
    app, forms, acme, staff, plan, term, total, start
):
    paid_optima_7m(app, forms, acme, staff)
    html = forms.client.get(f"/plans?term={term}&lang=en").get_data(as_text=True)
    assert f'data-total="{total}"' in html
    assert "to follow your OPTIMA period, which ends on 21 June 2027" in html
    assert 'name="previous_end"' not in html and 'name="start"' not in html
    place(forms, plan=plan, term=term)
    renewal = next(o for o in only(app, Order) if o.kind == "renewal")
    assert (str(renewal.total), renewal.coverage_start) == (total, start)


def test_a_renewal_the_portal_does_not_know_is_ordered_as_a_new_period_and_says_why(forms, acme):
    forms.sign_in(acme.owner.email)  # Acme has bought nothing here
    comparison = forms.client.get("/plans?term=3m&renewal=1&previous_end=2026-12-31&lang=en")
    html = comparison.get_data(as_text=True)
    assert 'data-total="16830.00"' in html  # OPTIMA's loyalty price, as the client says
    assert "renewal prices hold for a period bought here" in html
    (choose,) = re.findall(r'href="([^"]+)" data-choose="optima"', html)
    summary = forms.client.get(choose.replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-total="19260.00"' in summary  # the list price: renewal prices need our period
    assert "Covers 1 January 2027 – 31 March 2027" in summary  # from the day after, as shown
    assert "You said your current period ends on 31 December 2026." in summary
    assert "/callback?plan=optima" in summary


def test_a_renewal_after_a_period_that_ended_long_ago_starts_today_at_list_prices(client):
    html = client.get("/plans?term=7m&renewal=1&previous_end=2026-11-01&lang=en").get_data(
        as_text=True
    )
    assert "Covers 22 November 2026 – 21 June 2027" in html.replace("\xa0", " ")
    assert 'data-total="40740.00"' in html


def test_a_budget_year_the_renewal_cannot_start_in_is_not_offered_to_choose(
    app, forms, acme, staff
):
    paid_optima_7m(app, forms, acme, staff)  # ends 2027-06-21: the year 2026 is over by then
    offered = forms.client.get("/plans?lang=en").get_data(as_text=True)
    assert 'value="budget:2026"' not in offered and 'value="budget:2027"' in offered
    asked = forms.client.get("/plans?term=budget:2026&lang=en")
    assert asked.status_code == 400
    assert "Term budget:2026 is not offered: choose one from the list" in asked.get_data(
        as_text=True
    )
    assert "data-choose=" not in asked.get_data(as_text=True)


def test_the_comparison_refuses_a_start_that_has_passed_as_the_order_would(client):
    response = client.get("/plans?term=7m&start=2026-11-21&lang=en")
    assert response.status_code == 400
    assert "2026-11-21 has passed: start today or later" in response.get_data(as_text=True)
    assert "data-choose=" not in response.get_data(as_text=True)


def test_an_upgrade_charges_the_prorated_difference_and_shows_the_arithmetic(
    app, forms, acme, staff
):
    paid_optima_7m(app, forms, acme, staff)
    later(app, days=40)  # 2027-01-01: 172 of 212 days left
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert 'data-upgrade="premium"' in html
    assert "(65,940 − 40,740) × 172 / 212 days" in html
    expected = (Decimal(25200) * 172 / 212).quantize(Decimal("0.01"))
    assert expected in totals(html)
    assert "prof" not in re.findall(r'data-upgrade="([^"]+)"', html)
    assert "next renewal" in html

    place(forms, plan="premium", upgrade="1")
    upgrade = next(o for o in only(app, Order) if o.kind == "upgrade")
    assert (upgrade.total, upgrade.coverage_start, upgrade.coverage_end) == (
        expected,
        date(2027, 1, 1),
        date(2027, 6, 21),
    )
    invoice = pay_by_invoice(forms, app, upgrade.id)
    mark_paid(app, invoice.id, staff.id)
    periods = sorted(only(app, SubscriptionPeriod), key=lambda p: p.start)
    assert [(p.plan, p.start, p.last_day) for p in periods] == [
        ("optima", date(2026, 11, 22), date(2026, 12, 31)),
        ("premium", date(2027, 1, 1), date(2027, 6, 21)),
    ]


# --- who sees what ----------------------------------------------------------------------------


def test_members_see_their_organizations_orders(app, forms, form_client, acme):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="7m")
    (order,) = only(app, Order)
    member = form_client(app.test_client())
    member.sign_in(acme.members[0].email, PASSWORD)
    assert member.client.get(f"/orders/{order.id}").status_code == 200


# --- renewal reminders ------------------------------------------------------------------------


def remind(app) -> str:
    result = app.test_cli_runner().invoke(args=["billing", "remind"])
    assert result.exit_code == 0, result.output
    return result.output


# OPTIMA 7 months from 2026-11-22 ends on 2027-06-21, 211 days after it starts.
@pytest.mark.parametrize(
    ("days_after_start", "subjects"),
    [
        pytest.param(179, [], id="32 days before the end nothing is due"),
        pytest.param(181, ["ends in 30 days"], id="30 days before the end the first reminder"),
        pytest.param(190, ["ends in 21 days"], id="a run missed on day 30 still sends it later"),
        pytest.param(204, ["ends in 7 days"], id="7 days before the end the second"),
        pytest.param(210, ["ends in 1 day"], id="1 day before the end the third"),
        pytest.param(211, ["ends today"], id="a third missed the day before goes on the last day"),
        pytest.param(212, [], id="after the end nothing"),
    ],
)
def test_reminders_are_mailed_once_each(
    app, forms, make_organization, staff, mails, days_after_start, subjects
):
    english = make_organization("Acme", "owner@acme.example", language="en")
    paid_optima_7m(app, forms, english, staff)
    before = len(mails())
    later(app, days=days_after_start)
    remind(app)
    remind(app)  # twice: nothing more
    sent = mails()[before:]
    assert [m["Subject"] for m in sent] == [f"Your OPTIMA support {s}" for s in subjects]
    assert all(m["To"].endswith("owner@acme.example>") for m in sent)


def test_the_three_reminders_over_a_period_and_none_after_a_renewal(app, forms, acme, staff, mails):
    paid_optima_7m(app, forms, acme, staff)
    before = len(mails())
    for days in (181, 182, 204, 205, 210):
        later(app, days=days)
        remind(app)
    assert len(mails()) - before == 3

    later(app, days=200)
    place(forms, plan="optima", term="12m")
    renewal = next(o for o in only(app, Order) if o.kind == "renewal")
    invoice = pay_by_invoice(forms, app, renewal.id)
    mark_paid(app, invoice.id, staff.id)
    # The renewed period is reminded of only when its own end nears.
    later(app, days=211)
    before = len(mails())
    remind(app)
    assert len(mails()) == before


# --- refunds ----------------------------------------------------------------------------------


def test_staff_record_a_refund_and_the_period_ends(app, forms, acme, staff, form_client):
    paid_optima_7m(app, forms, acme, staff)
    (order,) = only(app, Order)
    desk = form_client(app.test_client())
    desk.client.set_cookie("lang", "en")
    desk.sign_in(staff.email)
    later(app, days=30)
    response = desk.submit(f"/orders/{order.id}", f"/staff/orders/{order.id}/refund")
    assert response.status_code == 303
    (order,) = only(app, Order)
    (period,) = only(app, SubscriptionPeriod)
    assert order.status == "refunded"
    assert period.last_day == date(2026, 12, 21)  # yesterday, the day before the refund
    again = desk.submit(f"/orders/{order.id}", f"/staff/orders/{order.id}/refund")
    assert again.status_code == 409
    assert "Only a paid order can be refunded" in again.get_data(as_text=True)
    # Clients cannot record refunds.
    assert forms.submit("/account", f"/staff/orders/{order.id}/refund").status_code == 404


def test_after_an_upgrade_the_account_still_offers_renewals_and_refuses_a_second_upgrade_cleanly(
    app, forms, acme, staff
):
    paid_optima_7m(app, forms, acme, staff)
    later(app, days=40)
    place(forms, plan="premium", upgrade="1")
    upgrade = next(o for o in only(app, Order) if o.kind == "upgrade")
    mark_paid(app, pay_by_invoice(forms, app, upgrade.id).id, staff.id)
    account = forms.client.get("/account?lang=en")
    assert account.status_code == 200
    assert 'data-plan="premium"' in account.get_data(as_text=True)
    assert renewal_totals(account.get_data(as_text=True))["12m"] == Decimal("103320.00")
    again = forms.client.get("/orders/new?plan=premium&upgrade=1&lang=en")
    assert again.status_code == 400


# --- renewals the client declares, and budget years --------------------------------------------


def test_a_declared_renewal_into_a_budget_year_can_be_ordered_from_january(forms, acme):
    forms.sign_in(acme.owner.email)
    html = forms.client.get(
        "/plans?term=budget:2027&renewal=1&previous_end=2026-12-10&lang=en"
    ).get_data(as_text=True)
    (choose,) = re.findall(r'href="([^"]+)" data-choose="optima"', html)
    summary = forms.client.get(choose.replace("&amp;", "&"))
    assert summary.status_code == 200
    assert "Covers 1 January 2027 – 31 December 2027" in summary.get_data(as_text=True)


def test_a_period_ending_on_december_31_is_followed_by_next_years_budget(app, forms, acme, staff):
    forms.sign_in(acme.owner.email)
    place(forms, plan="optima", term="budget:2026")  # ends 2026-12-31
    (order,) = only(app, Order)
    mark_paid(app, pay_by_invoice(forms, app, order.id).id, staff.id)
    offered = forms.client.get("/plans?lang=en").get_data(as_text=True)
    assert 'value="budget:2027"' in offered and 'value="budget:2026"' not in offered
    chosen = forms.client.get("/plans?term=budget:2027&lang=en")
    assert chosen.status_code == 200 and "data-choose=" in chosen.get_data(as_text=True)


def test_a_start_inside_the_period_being_renewed_is_refused(client):
    query = "term=3m&renewal=1&previous_end=2027-01-31&start=2027-01-15&lang=en"
    response = client.get(f"/plans?{query}")
    assert response.status_code == 400
    assert "falls in the period you renew" in response.get_data(as_text=True)
