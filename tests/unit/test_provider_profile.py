"""The provider's profile: what the bundled catalogs publish, and VAT as the engine splits it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import TODAY, catalog, catalog_text

from portal.plans import parse_catalog, parse_quote_request, quote, savings
from portal.plans.provider import Vat, check_bik, check_ru_account, vat_of


@pytest.mark.parametrize(
    ("name", "phone", "email", "website"),
    [
        pytest.param("iiko", "+7 (3812) 59-49-52", None, None, id="iiko publishes its phone"),
        pytest.param(
            "crystals",
            "8 (800) 333-22-51",
            "sd@crystals.ru",
            "www.crystals.ru/support",
            id="Crystals publishes phone, e-mail and its request page",
        ),
    ],
)
def test_the_bundled_catalogs_carry_the_contacts_their_offers_publish(name, phone, email, website):
    provider = catalog(name).provider
    assert provider.main_phone == phone
    if email:
        assert (provider.email, provider.website) == (email, website)


@pytest.mark.parametrize("name", ["crystals", "iiko", "iotex", "kbs", "kvartplata"])
def test_every_bundled_catalog_names_a_legal_supplier_a_bank_and_a_vat_status(name):
    provider = catalog(name).provider
    assert provider.legal_name and provider.numbers and provider.bank
    assert provider.logo.media_type == "image/svg+xml"
    assert provider.terms.get_for(catalog(name).locale)
    # Values of our own are marked as demo values in the file.
    assert "demo value" in catalog_text(name)


@pytest.mark.parametrize(
    ("amount", "vat", "net", "tax", "gross"),
    [
        pytest.param("40740.00", Vat(), "40740.00", None, "40740.00", id="no VAT payer: no VAT"),
        pytest.param(
            "1220.00",
            Vat(Decimal(22)),
            "1000.00",
            "220.00",
            "1220.00",
            id="22% inside a price that includes it",
        ),
        pytest.param(
            "100.00",
            Vat(Decimal(20)),
            "83.33",
            "16.67",
            "100.00",
            id="20% inside 100.00, rounded once to the kopeck",
        ),
        pytest.param(
            "1000.00",
            Vat(Decimal(20), included=False),
            "1000.00",
            "200.00",
            "1200.00",
            id="20% added to a price that excludes it",
        ),
        pytest.param(
            "1000",
            Vat(Decimal(10)),
            "910",
            "90.91",
            "1000",
            id="10% inside a price in rials, rounded to whole rials",
        ),
    ],
)
def test_vat_is_split_as_the_providers_status_says(amount, vat, net, tax, gross):
    currency = "IRR" if "." not in amount else "UAH"
    split = vat_of(Decimal(amount), vat, currency)
    expected_tax = None if tax is None else Decimal(tax if currency != "IRR" else "91")
    assert (split.vat, split.gross) == (expected_tax, Decimal(gross))
    assert split.net + (split.vat or 0) == split.gross


def kbs_excluding_vat():
    text = catalog_text("kbs").replace(
        'payer = false  # demo value: "Без ПДВ"', 'payer = true\nrate = 20\nprices = "exclude"'
    )
    return parse_catalog(text, source="kbs.toml")


def test_prices_that_exclude_vat_get_a_vat_line_and_a_total_with_it():
    book = kbs_excluding_vat()
    priced = quote(
        book, parse_quote_request(book, {"plan": "optima", "term": "7m"}, today=TODAY), TODAY
    )
    assert [(line.kind, line.amount) for line in priced.lines] == [
        ("plan", Decimal("40740.00")),
        ("vat", Decimal("8148.00")),
    ]
    assert (priced.total, priced.net_total) == (Decimal("48888.00"), Decimal("40740.00"))
    # Savings compare catalog prices: 7 × 6 420 = 44 940, less 40 740.
    assert savings(book, priced).saving == Decimal("4200.00")


def test_prices_that_include_vat_keep_their_total():
    priced = quote(
        catalog("iiko"),
        parse_quote_request(catalog("iiko"), {"plan": "contract", "term": "12m"}, today=TODAY),
        TODAY,
    )
    assert all(line.kind != "vat" for line in priced.lines)


@pytest.mark.parametrize(
    ("account", "bik", "correspondent", "valid"),
    [
        pytest.param("30101810400000000225", "044525225", True, True, id="Sberbank's own"),
        pytest.param("40702810938000012345", "044525225", False, True, id="a client's account"),
        pytest.param("40702810038000012345", "044525225", False, False, id="one digit off"),
        pytest.param("30101810400000000225", "044030653", True, False, id="another bank's"),
    ],
)
def test_a_russian_account_is_checked_against_its_banks_bik(account, bik, correspondent, valid):
    try:
        check_ru_account(account, check_bik(bik), correspondent)
    except ValueError:
        assert not valid
    else:
        assert valid
