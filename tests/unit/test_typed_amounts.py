"""Amounts of money are read as people type them, and refused with a reason when unclear."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import row

from portal.plans import PlanError
from portal.plans.requests import parse_money

# sentence: row(currency, typed, amount)
UNDERSTOOD = {
    "commas grouping thousands": row("IRR", "1,000,000,000", "1000000000"),
    "spaces grouping thousands": row("IRR", "1 000 000 000", "1000000000"),
    "no-break spaces grouping thousands": row("RUB", "1\u00a0000\u00a0000", "1000000"),
    "Persian digits with the Persian thousands sign": row("IRR", "۱٬۰۰۰٬۰۰۰٬۰۰۰", "1000000000"),
    "Persian digits and a trailing rial": row("IRR", "۱۲۰۰۰۰۰ ریال", "1200000"),
    "Arabic-Indic digits": row("IRR", "١٢٠٠", "1200"),
    "a rial sign in Latin letters": row("IRR", "1200000 IRR", "1200000"),
    "a decimal comma": row("RUB", "1500,50", "1500.50"),
    "a decimal point": row("RUB", "1500.50", "1500.50"),
    "dots grouping and a decimal comma": row("RUB", "1.000.000,50", "1000000.50"),
    "commas grouping and a decimal point": row("RUB", "1,000,000.50", "1000000.50"),
    "spaces grouping and a decimal comma": row("UAH", "1 000 000,50", "1000000.50"),
    "one comma before three digits, as no currency has three decimals": row(
        "RUB", "250,000", "250000"
    ),
    "a rouble sign before": row("RUB", "₽ 1500", "1500"),
    "roubles after, abbreviated": row("RUB", "1500 руб.", "1500"),
    "hryvnias after": row("UAH", "1 500 грн", "1500"),
    "tenge after, in Kazakh": row("KZT", "15 000 теңге", "15000"),
    "trailing zero decimals of a currency without decimals": row("IRR", "1200.00", "1200"),
    "a half with a decimal comma, not five hundred": row("RUB", "0,500", "0.5"),
    "a half with a decimal point": row("RUB", "0.500", "0.5"),
    "rials spelt with the Arabic yeh": row("IRR", "1200 ريال", "1200"),
    "Arabic commas grouping thousands": row("IRR", "1،200،000", "1200000"),
    "an underscore grouping thousands": row("RUB", "1_000_000", "1000000"),
}

# sentence: row(currency, typed, code)
REFUSED = {
    "letters": row("RUB", "abc", "invalid_amount"),
    "nothing": row("RUB", "", "invalid_amount"),
    "zero": row("RUB", "0", "invalid_amount"),
    "a negative amount": row("RUB", "-5", "invalid_amount"),
    "an exponent": row("RUB", "1e3", "invalid_amount"),
    "a superscript digit": row("RUB", "²", "invalid_amount"),
    "one dot before three digits, a thousand or one": row("RUB", "1.000", "invalid_amount"),
    "groups of two digits": row("RUB", "1,00,000", "invalid_amount"),
    "two decimal points": row("RUB", "12.345,6.7", "invalid_amount"),
    "a space inside a group": row("RUB", "1 5", "invalid_amount"),
    "a space before a short group": row("RUB", "15 00", "invalid_amount"),
    "more than a quintillion": row("RUB", "1" + "0" * 19, "invalid_amount"),
    "tomans for a price in rials": row("IRR", "120000 تومان", "amount_currency"),
    "dollars for a price in roubles": row("RUB", "100 USD", "amount_currency"),
    "a hryvnia sign for a price in tenge": row("KZT", "₴100", "amount_currency"),
    "decimals of a currency without them": row("IRR", "2,5", "amount_decimals"),
    "three decimals of kopecks": row("RUB", "1500.555", "amount_decimals"),
}


@pytest.mark.parametrize(("currency", "typed", "amount"), UNDERSTOOD.values(), ids=UNDERSTOOD)
def test_an_amount_is_read_as_typed(currency, typed, amount):
    assert parse_money(typed, "licence_value", currency) == Decimal(amount)


@pytest.mark.parametrize(("currency", "typed", "code"), REFUSED.values(), ids=REFUSED)
def test_an_unclear_amount_is_refused_with_its_reason(currency, typed, code):
    with pytest.raises(PlanError) as refused:
        parse_money(typed, "licence_value", currency)
    assert (refused.value.code, refused.value.field) == (code, "licence_value")
