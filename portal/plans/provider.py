"""The provider behind a catalog: who sells, how to reach them, how to pay them, and VAT.

A catalog's ``[provider]`` section becomes a :class:`Provider`: brand and legal name
per locale, a logo shipped beside the catalog, contacts, registration and tax numbers
with their local labels, bank details and VAT status. Numbers are checked where the
country has a checksum: python-stdnum for EDRPOU, RNOKPP, INN and OGRN; schwifty for
IBANs and BICs (it knows Iran's IBAN, which python-stdnum does not); our own checks for
Kazakhstan's BIN and the Russian accounts against their BIK, which neither knows.

:func:`vat_of` splits an amount by the provider's VAT status: the one place VAT is
computed. Nothing here knows Flask or a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn
from stdnum.ua import edrpou as ua_edrpou
from stdnum.ua import rntrc as ua_rntrc

from portal.plans.catalog import LocalizedText
from portal.plans.money import round_money

# Logos: what a file may be, and at most how large (a wordmark, not a photograph).
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
LOGO_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class Logo:
    """The provider's logo: its file name beside the catalog, media type and bytes."""

    name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class RegistrationNumber:
    """A registration or tax number (``kind`` from :data:`NUMBER_KINDS`), in compact form."""

    kind: str
    value: str

    @property
    def label(self) -> LocalizedText:
        return NUMBER_KINDS[self.kind].label


@dataclass(frozen=True)
class BankAccount:
    """Where a bank transfer goes: the bank, the account (an IBAN, or a national account
    number), the SWIFT ``bic``, and the national bank code: Ukraine's ``mfo``, Russia's
    and Kazakhstan's ``bik``, with Russia's ``correspondent_account`` of the bank."""

    bank: LocalizedText
    iban: str | None = None
    account: str | None = None
    bic: str | None = None
    mfo: str | None = None
    bik: str | None = None
    correspondent_account: str | None = None


@dataclass(frozen=True)
class Vat:
    """VAT status: not a payer (``rate`` None), or a payer at ``rate`` percent whose
    catalog prices include VAT (``included``) or have it added."""

    rate: Decimal | None = None
    included: bool = True

    @property
    def payer(self) -> bool:
        return self.rate is not None


@dataclass(frozen=True)
class VatSplit:
    """An amount split by VAT: ``net`` + ``vat`` = ``gross``; ``vat`` is None for a
    provider who pays no VAT."""

    net: Decimal
    vat: Decimal | None
    gross: Decimal
    rate: Decimal | None
    included: bool


@dataclass(frozen=True)
class Provider:
    """Who sells the catalog's plans, as a bookkeeper and a client need to know them."""

    brand: LocalizedText
    legal_name: LocalizedText
    country: str | None = None  # ISO 3166 (UA), where its phones and numbers belong
    logo: Logo | None = None
    address: LocalizedText | None = None
    phones: tuple[str, ...] = ()
    email: str | None = None
    website: str | None = None
    support_hours: LocalizedText | None = None
    numbers: tuple[RegistrationNumber, ...] = ()
    bank: BankAccount | None = None
    vat: Vat = Vat()
    terms: LocalizedText | None = None

    @property
    def main_phone(self) -> str | None:
        return self.phones[0] if self.phones else None


def vat_of(amount: Decimal, vat: Vat, currency: str) -> VatSplit:
    """``amount`` (a catalog price, as the catalog states it) split by ``vat``.

    Prices that include VAT: the VAT inside is ``amount × rate / (100 + rate)``,
    rounded once (``в т.ч. НДС 20%``). Prices without VAT: it is added on top.
    """
    if vat.rate is None:
        return VatSplit(amount, None, amount, None, vat.included)
    if vat.included:
        inside = round_money(amount * vat.rate / (100 + vat.rate), currency)
        return VatSplit(amount - inside, inside, amount, vat.rate, True)
    added = round_money(amount * vat.rate / 100, currency)
    return VatSplit(amount, added, amount + added, vat.rate, False)


# --- the numbers a provider may state ---------------------------------------------------------


def _stdnum(module) -> Callable[[str], str]:
    """A check by a python-stdnum module: the compact number, or ValueError with the reason."""

    def check(value: str) -> str:
        try:
            return module.validate(value)
        except ValidationError as exc:
            raise ValueError(str(exc).lower().rstrip(".")) from None

    return check


def _digits(count: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        compact = re.sub(r"[\s-]", "", value)
        if not re.fullmatch(rf"\d{{{count}}}", compact):
            raise ValueError(f"must be {count} digits")
        return compact

    return check


def _kz_bin(value: str) -> str:
    """Kazakhstan's BIN/IIN: 12 digits, the last a mod-11 check over two weight series."""
    compact = _digits(12)(value)
    digits = [int(d) for d in compact]
    for weights in (range(1, 12), [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]):
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            break
    if check == 10 or check != digits[11]:
        raise ValueError("the checksum does not match")
    return compact


def _ru_kpp(value: str) -> str:
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"\d{4}[\dA-Z]{2}\d{3}", compact):
        raise ValueError("must be 9 characters: 4 digits, 2 digits or letters, 3 digits")
    return compact


@dataclass(frozen=True)
class NumberKind:
    label: LocalizedText
    check: Callable[[str], str]


def _label(**texts: str) -> LocalizedText:
    return LocalizedText(texts)


NUMBER_KINDS: dict[str, NumberKind] = {
    "ua-edrpou": NumberKind(
        _label(en="EDRPOU code", uk="Код ЄДРПОУ", ru="Код ЕГРПОУ"), _stdnum(ua_edrpou)
    ),
    "ua-rnokpp": NumberKind(
        _label(en="RNOKPP (individual tax number)", uk="РНОКПП", ru="РНУКПН"),
        _stdnum(ua_rntrc),
    ),
    "ua-ipn": NumberKind(
        _label(en="VAT payer number (IPN)", uk="ІПН", ru="ИНН плательщика НДС"), _digits(12)
    ),
    "ru-inn": NumberKind(_label(en="INN", ru="ИНН", uk="ІПН (РФ)"), _stdnum(ru_inn)),
    "ru-kpp": NumberKind(_label(en="KPP", ru="КПП"), _ru_kpp),
    "ru-ogrn": NumberKind(_label(en="OGRN", ru="ОГРН"), _stdnum(ru_ogrn)),
    "kz-bin": NumberKind(_label(en="BIN", ru="БИН", kk="БСН"), _kz_bin),
    # Iran's national ID of a legal entity and its economic code: python-stdnum knows
    # neither, and we know no published checksum we trust; their lengths are checked.
    "ir-national-id": NumberKind(_label(en="National ID", fa="شناسه ملی"), _digits(11)),
    "ir-economic-code": NumberKind(_label(en="Economic code", fa="کد اقتصادی"), _digits(12)),
}


def check_iban(value: str) -> str:
    """An IBAN in compact form, its country's length and its checksum verified."""
    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        raise ValueError(str(exc).lower().rstrip(".")) from None


def check_bic(value: str) -> str:
    """A SWIFT BIC (ISO 9362) in compact form."""
    try:
        return BIC(value, allow_invalid=False).compact
    except SchwiftyException as exc:
        raise ValueError(str(exc).lower().rstrip(".")) from None


def check_bik(value: str) -> str:
    """A bank's BIK: Russia's 9 digits, or Kazakhstan's (a SWIFT code)."""
    compact = value.replace(" ", "").upper()
    if compact.isdigit():
        return _digits(9)(compact)
    return check_bic(compact)


def check_ru_account(account: str, bik: str, correspondent: bool) -> str:
    """A Russian 20-digit account checked against its bank's BIK (the Bank of Russia's
    control key: weights 7, 1, 3 over the BIK's digits and the account)."""
    compact = _digits(20)(account)
    prefix = "0" + bik[4:6] if correspondent else bik[-3:]
    digits = [int(d) for d in prefix + compact]
    weights = [7, 1, 3] * 8
    if sum(d * w for d, w in zip(digits, weights, strict=False)) % 10:
        raise ValueError("does not match the bank's BIK (control key)")
    return compact
