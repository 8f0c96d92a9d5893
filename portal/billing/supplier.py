"""The supplier on invoices and receipts, in the reader's language: the provider's legal
details and bank details from the catalog's ``[provider]`` section, the VAT line as the
provider's VAT status says, and the total in words where bookkeepers expect it.

Nothing here computes money: the VAT split comes from the engine (``vat_of``).
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from num2words import CONVERTER_CLASSES, num2words

from portal import formatting
from portal.catalog.wording import text
from portal.plans import Catalog
from portal.plans.money import minor_unit
from portal.plans.provider import vat_of

# Languages whose invoices state the total in words, and num2words' name for each.
WORDS_LANGUAGES = {"ru": "ru", "uk": "uk", "kk": "kz"}


def legal_name(catalog: Catalog) -> str:
    """The supplier's legal name (``ТОВ «СОФТКОМ»``), else its brand, else the catalog's."""
    if catalog.provider is not None:
        return text(catalog.provider.legal_name, catalog)
    return text(catalog.name, catalog)


def supplier_lines(catalog: Catalog) -> tuple[str, ...]:
    """The supplier block of a document: name, numbers, address, contacts, bank details."""
    provider = catalog.provider
    lines = [legal_name(catalog)]
    if provider is None:
        return tuple(lines)
    lines.extend(f"{text(n.label, catalog)}: {n.value}" for n in provider.numbers)
    if provider.address:
        lines.append(text(provider.address, catalog))
    contacts = [*provider.phones[:1], *([provider.email] if provider.email else [])]
    if contacts:
        lines.append(", ".join(contacts))
    return (*lines, *bank_lines(catalog))


def bank_lines(catalog: Catalog) -> tuple[str, ...]:
    """The bank details as a bookkeeper copies them into a payment order."""
    bank = catalog.provider.bank if catalog.provider else None
    if bank is None:
        return ()
    lines = []
    if bank.iban:
        lines.append(_("IBAN: %(iban)s", iban=bank.iban))
    if bank.account:
        lines.append(_("Account: %(account)s", account=bank.account))
    lines.append(_("Bank: %(bank)s", bank=text(bank.bank, catalog)))
    if bank.mfo:
        lines.append(_("MFO: %(code)s", code=bank.mfo))
    if bank.bik:
        lines.append(_("BIK: %(code)s", code=bank.bik))
    if bank.correspondent_account:
        lines.append(_("Correspondent account: %(account)s", account=bank.correspondent_account))
    if bank.bic:
        lines.append(_("SWIFT: %(bic)s", bic=bank.bic))
    return tuple(lines)


def payee_lines(catalog: Catalog) -> tuple[str, ...]:
    """What a payment order needs beside the payee's name: its numbers and bank details."""
    provider = catalog.provider
    numbers = provider.numbers if provider else ()
    labelled = tuple(f"{text(number.label, catalog)}: {number.value}" for number in numbers)
    return (*labelled, *bank_lines(catalog))


def bank_details_missing(catalog: Catalog) -> str | None:
    """Said on an invoice while the catalog names no bank account to pay to."""
    if catalog.provider is not None and catalog.provider.bank is not None:
        return None
    return _(
        "The supplier's bank details are not on this invoice yet: ask %(provider)s for them "
        "before you pay.",
        provider=legal_name(catalog),
    )


def vat_line(
    catalog: Catalog, total: Decimal, currency: str, locale: str
) -> tuple[str, str] | None:
    """The VAT line under a document's total: ``("Without VAT", "")``, ``("Including VAT
    20%", "6 790,00 ₴")``; None for a version that states no VAT status."""
    if catalog.provider is None or catalog.provider.country is None:
        return None  # published before the [provider] section: nothing is known
    vat = catalog.provider.vat
    if not vat.payer:
        return (_("Without VAT"), "")
    split = vat_of(total, vat, currency) if vat.included else None
    if split is None:
        return None  # VAT added on top is a line of the order itself
    rate = formatting.number(vat.rate, locale)
    return (
        _("Including VAT %(rate)s%%", rate=rate),
        formatting.money(split.vat, currency, locale),
    )


def amount_in_words(amount: Decimal, currency: str, locale: str) -> str | None:
    """``Сорок тисяч сімсот сорок гривень 00 копійок`` for ru, uk and kk; None elsewhere.

    The whole units in words and the minor units in digits, as bookkeepers write it;
    a currency num2words cannot name in the language keeps its code.
    """
    language = WORDS_LANGUAGES.get(locale)
    if language is None:
        return None
    if currency in CONVERTER_CLASSES[language].CURRENCY_FORMS:
        words = num2words(
            amount, lang=language, to="currency", currency=currency, cents=False, separator=""
        )
    else:
        whole = int(amount)
        words = f"{num2words(whole, lang=language)} {currency}"
        decimals = minor_unit(currency)
        if decimals:
            words += f" {int((amount - whole) * 10**decimals):0{decimals}d}"
    return words[:1].upper() + words[1:]
