"""Shared helpers of the domain tests: catalogs, quotes, refusals, money and time readers.

The tests are tables: each row is a case whose id reads as a sentence. The helpers
keep the rows short: ``ask`` prices a request the way the JSON API does (flat strings),
``refuse`` returns the (code, field) of the PlanError a request gets.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.plans import PlanError, load_catalog, parse_quote_request, quote
from portal.plans.loading import bundled_catalog_path

# The date the quotes are asked on, unless a case says otherwise.
TODAY = date(2026, 11, 22)

# Decimals of each currency the bundled catalogs use (ISO 4217 minor units).
DECIMALS = {"UAH": 2, "RUB": 2, "KZT": 2, "IRR": 0}

BUNDLED = ("crystals", "iiko", "iotex", "kbs", "kvartplata")


@functools.cache
def catalog(name):
    """A bundled catalog, loaded once per test run (catalogs are immutable)."""
    return load_catalog(name)


@functools.cache
def catalog_text(name):
    """The TOML text of a bundled catalog, to build broken variants with str.replace."""
    return bundled_catalog_path(name).read_text(encoding="utf-8")


def ask(catalog_name, params, today=TODAY):
    """Quote ``params`` (flat strings, as the JSON API passes them) from a bundled catalog."""
    book = catalog(catalog_name)
    return quote(book, parse_quote_request(book, params, today=today), today)


def refuse(catalog_name, params, today=TODAY):
    """The (code, field) of the PlanError that asking for ``params`` raises."""
    with pytest.raises(PlanError) as caught:
        ask(catalog_name, params, today)
    return caught.value.code, caught.value.field


def row(*values):
    """One case of a table keyed by its sentence: ``"a negative quantity": row(...)``."""
    return values


def money(text):
    """A Decimal written as the reference writes it: money("6900.00")."""
    return Decimal(text)


def day(text):
    return date.fromisoformat(text)


def moment(text):
    """An aware datetime from ISO 8601 with its UTC offset (a trailing Z is UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def has_currency_decimals(amount, currency):
    """Whether ``amount`` is a Decimal written with exactly the currency's decimals."""
    return isinstance(amount, Decimal) and amount.as_tuple().exponent == -DECIMALS[currency]


def amounts_of(priced):
    """Every amount of a quote: total, lines and installments (None for on-request left out)."""
    found = [priced.total] + [line.amount for line in priced.lines]
    found += [installment.amount for installment in priced.installments]
    return [amount for amount in found if amount is not None]


def assert_money_of(priced):
    """Every amount of the quote is a Decimal with the quote currency's decimals."""
    wrong = [a for a in amounts_of(priced) if not has_currency_decimals(a, priced.currency)]
    assert wrong == [], f"amounts not in {priced.currency} minor units: {wrong!r}"
