"""Pages write numbers, percentages, currencies, dates and day names as their language does."""

from __future__ import annotations

import pytest
from conftest import visible_text

from portal.catalog.current import current_catalog
from portal.clock import today_in
from portal.demo import services as demo
from portal.extensions import db

SAID = [
    # catalog, address, what the page says, what it must not say
    ("iotex", "/plans?lang=fa", "ارزش لایسنس نرم‌افزار شما، ریال", "IRR"),
    ("iotex", "/plans?lang=fa", "۲۵٪ از ارزش لایسنس", "۲۵%"),
    ("iotex", "/plans?lang=fa&start=0001-01-01", "بازه سال‌های ۱۹۰۰ تا ۲۲۰۰", "1900"),
    ("iotex", "/plans?lang=fa&licence_value=1000000000&start=1405-09-10", "۱۰ آذر ۱۴۰۵", None),
    ("iotex", "/callback?plan=premium&lang=fa", "۰۹۱۲ ۳۴۵ ۶۷۸۹", "0912"),
    ("kbs", "/plans/prof?lang=uk", "2 підключення на місяць", "підключень"),
    ("kbs", "/plans/optima?lang=uk", "1 робочий день, понеділок–п’ятниця", "Понеділок–"),
    ("kbs", "/plans/optima?lang=en", "1 working day, Monday–Friday", None),
    ("kbs", "/callback?plan=optima&options=term%3D7m&lang=uk", "Ваш вибір: 7 місяців.", None),
    ("iotex", "/plans?lang=fa&start=1400-01-01", "تاریخ ۱ فروردین ۱۴۰۰ گذشته است", "2021"),
    ("iotex", "/plans?lang=fa&start=1405-13-40", "مانند ۱۴۰۵-۰۹-۱۰", "YYYY"),
    ("iotex", "/register?lang=fa", "دست‌کم ۱۰ نویسه", " 10 "),
    ("iotex", "/nowhere?lang=fa", "۴۰۴", "404"),
]


@pytest.mark.parametrize(
    ("catalog", "path", "says", "not_said"), SAID, ids=[f"{s[0]}:{s[1]}" for s in SAID]
)
def test_the_page_writes_as_its_language_does(make_app, catalog, path, says, not_said):
    response = make_app(PORTAL_CATALOG=catalog).test_client().get(path)
    assert response.status_code in (200, 400, 404)
    text = visible_text(response.get_data(as_text=True)).replace("\u00a0", " ")
    assert says in text
    if not_said:
        assert not_said not in text


def test_a_jalali_day_that_does_not_exist_is_no_date(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = client.get("/plans?lang=fa&start=1404-07-31").get_data(as_text=True)
    assert "«۱۴۰۴-۰۷-۳۱» تاریخ معتبری نیست" in html  # Mehr has 30 days


def test_a_persian_account_page_counts_days_and_terms_in_persian_digits(make_app, form_client):
    app = make_app(PORTAL_CATALOG="iotex")
    with app.test_request_context():
        catalog = current_catalog()
        accounts = demo.load(db.session, catalog, today_in(catalog.timezone))
    client = next(a for a in accounts if a.email.startswith("client1@"))  # ends in a week
    forms = form_client(app.test_client())
    forms.sign_in(client.email, client.password)
    text = visible_text(forms.client.get("/account?lang=fa").get_data(as_text=True))
    assert "روز باقی‌مانده" in text
    days = text.split("روز باقی‌مانده")[0].split()[-1]
    assert days and all(ch in "۰۱۲۳۴۵۶۷۸۹" for ch in days)
