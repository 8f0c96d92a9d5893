"""Money is a Decimal in a currency, rounded half-up to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units of the currencies the catalogs may use.
MINOR_UNITS = {"RUB": 2, "UAH": 2, "KZT": 2, "IRR": 0, "USD": 2, "EUR": 2}
# What people type beside an amount to say its currency ("1 500 грн", "۱۲۰۰ ریال", "₽ 900"),
# compared in lower case. A word not here (another currency, tomans for rials) is refused.
CURRENCY_WORDS = {
    "RUB": frozenset({"₽", "р", "р.", "руб", "руб.", "рубль", "рубля", "рублей", "rub", "rur"}),
    "UAH": frozenset({"₴", "грн", "грн.", "гривня", "гривні", "гривень", "uah"}),
    "KZT": frozenset({"₸", "тг", "тг.", "тенге", "теңге", "kzt"}),
    "IRR": frozenset({"ریال", "﷼", "rial", "rials", "irr"}),
    "USD": frozenset({"$", "usd"}),
    "EUR": frozenset({"€", "eur"}),
}


def minor_unit(currency: str) -> int:
    """Number of decimals of ``currency`` (IRR: 0, RUB: 2)."""
    return MINOR_UNITS[currency]


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency``.

    The one rounding function of the portal: every priced line goes through it.
    """
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An exact amount as an integer count of minor units (kopecks, rials)."""
    return int(round_money(amount, currency).scaleb(minor_unit(currency)))
