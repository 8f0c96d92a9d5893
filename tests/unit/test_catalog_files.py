"""Catalog files: the bundled ones load as the reference states them; broken ones are located."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from babel import Locale
from conftest import BUNDLED, TODAY, ask, catalog, catalog_text, moment

from portal.plans import (
    CatalogError,
    Term,
    due_at,
    load_catalog,
    parse_catalog,
    parse_quote_request,
)
from portal.plans.catalog import PLURAL_CATEGORIES
from portal.plans.loading import bundled_catalog_names


def test_the_bundled_catalogs_are_the_five_reference_offers():
    assert list(bundled_catalog_names()) == sorted(BUNDLED)


BUNDLED_FACTS = [
    # name, currency, locale, time zone, plans, units, SLA targets, services
    pytest.param(
        "iiko",
        "RUB",
        "ru",
        "Asia/Omsk",
        ["contract", "one-off"],
        [
            "workstation",
            "fiscal-register",
            "computer",
            "network",
            "utm",
            "update",
            "db-backup",
            "monthly-report",
        ],
        ["blocking", "critical", "important", "minor"],
        [],
        id="iiko is in RUB, ru, Asia/Omsk with a contract and single requests",
    ),
    pytest.param(
        "crystals",
        "RUB",
        "ru",
        "Europe/Moscow",
        ["garant"],
        ["register", "store"],
        [
            "registration",
            "consultation",
            "restore",
            "critical-process",
            "server",
            "cash-operations",
            "loyalty",
            "import-export",
            "register-discrepancy",
            "erp-discrepancy",
            "fix-eta",
        ],
        [],
        id="crystals is in RUB, ru, Europe/Moscow with the Garant plan",
    ),
    pytest.param(
        "iotex",
        "IRR",
        "fa",
        "Asia/Tehran",
        ["basic", "standard", "premium"],
        [],
        ["first-response"],
        ["onsite", "extra-visit", "launch-2d", "launch-3d", "server-move"],
        id="iotex is in IRR, fa, Asia/Tehran with three packages, on-site hours and four extras",
    ),
    pytest.param(
        "kbs",
        "UAH",
        "uk",
        "Europe/Kyiv",
        ["prof", "optima", "premium"],
        [],
        ["reaction"],
        ["hours"],
        id="kbs is in UAH, uk, Europe/Kyiv with three plans and extra hours",
    ),
    pytest.param(
        "kvartplata",
        "RUB",
        "ru",
        "Europe/Moscow",
        ["licence"],
        [],
        [],
        ["remote-backup", "remote-direct"],
        id="kvartplata is in RUB, ru, Europe/Moscow with two remote sessions",
    ),
]


@pytest.mark.parametrize(
    ("name", "currency", "locale", "zone", "plans", "units", "targets", "services"),
    BUNDLED_FACTS,
)
def test_a_bundled_catalog_loads_with_the_reference_codes(
    name, currency, locale, zone, plans, units, targets, services
):
    loaded = load_catalog(name)

    assert (loaded.code, loaded.currency, loaded.locale, loaded.timezone) == (
        name,
        currency,
        locale,
        zone,
    )
    assert list(loaded.plans) == plans
    assert list(loaded.units) == units
    assert list(loaded.sla_targets) == targets
    assert list(loaded.services) == services


@pytest.mark.parametrize(
    ("name", "methods"),
    [
        pytest.param(
            "iotex", ("bank-transfer",), id="iotex takes bank transfers only (no rials by card)"
        ),
        pytest.param("kbs", ("card", "bank-transfer"), id="kbs takes cards and bank transfers"),
    ],
)
def test_payment_methods(name, methods):
    assert catalog(name).payment_methods == methods


def test_iotex_visits_are_booked_in_4_and_8_hour_blocks():
    assert catalog("iotex").visit_blocks == (4, 8)


SLA_PROMISES = [
    # catalog, plan, target, (amount, unit) promised, (amount, unit) expected or None
    ("iiko", "contract", "blocking", ("2.5", "hours"), ("1.5", "hours")),
    ("iiko", "contract", "critical", ("2", "working_days"), None),
    ("iiko", "contract", "important", ("3", "working_days"), None),
    ("iiko", "contract", "minor", ("5", "working_days"), None),
    ("iiko", "one-off", "blocking", ("5", "hours"), ("4", "hours")),
    ("iiko", "one-off", "critical", ("3", "working_days"), None),
    ("iiko", "one-off", "important", ("5", "working_days"), None),
    ("iiko", "one-off", "minor", ("7", "working_days"), None),
    ("crystals", "garant", "registration", ("15", "minutes"), None),
    ("crystals", "garant", "consultation", ("4", "hours"), None),
    ("crystals", "garant", "restore", ("4", "hours"), None),
    ("crystals", "garant", "critical-process", ("2", "hours"), None),
    ("crystals", "garant", "server", ("3", "hours"), None),
    ("crystals", "garant", "cash-operations", ("4", "hours"), None),
    ("crystals", "garant", "loyalty", ("4", "hours"), None),
    ("crystals", "garant", "import-export", ("4", "hours"), None),
    ("crystals", "garant", "register-discrepancy", ("4", "hours"), None),
    ("crystals", "garant", "erp-discrepancy", ("36", "hours"), None),
    ("crystals", "garant", "fix-eta", ("3", "days"), None),
    ("iotex", "basic", "first-response", ("8", "working_hours"), None),
    ("iotex", "standard", "first-response", ("4", "working_hours"), None),
    ("iotex", "premium", "first-response", ("2", "working_hours"), None),
    ("kbs", "prof", "reaction", ("2", "working_days"), None),
    ("kbs", "optima", "reaction", ("1", "working_days"), None),
    ("kbs", "premium", "reaction", ("4", "working_hours"), None),
]


@pytest.mark.parametrize(
    ("name", "plan", "target", "upper", "lower"),
    [
        pytest.param(
            *row,
            id=f"{row[0]} {row[1]} promises {row[2]} in {row[3][0]} {row[3][1]}"
            + (f" (expected {row[4][0]})" if row[4] else ""),
        )
        for row in SLA_PROMISES
    ],
)
def test_sla_promises_are_the_reference_ones(name, plan, target, upper, lower):
    promise = catalog(name).plans[plan].sla[target]

    assert (promise.upper.amount, promise.upper.unit) == (Decimal(upper[0]), upper[1])
    if lower is None:
        assert promise.lower is None
    else:
        assert (promise.lower.amount, promise.lower.unit) == (Decimal(lower[0]), lower[1])


def test_every_sla_target_of_a_plan_is_defined_by_its_catalog():
    undefined = [
        (name, plan.code, target)
        for name in BUNDLED
        for plan in catalog(name).plans.values()
        for target in plan.sla
        if target not in catalog(name).sla_targets
    ]
    assert undefined == []


FEATURES = [
    # catalog, feature, {plan: quantity or "unlimited"}
    pytest.param(
        "kbs",
        "specialist-hours",
        {"prof": "0", "optima": "3", "premium": "6"},
        id="kbs includes 0 / 3 / 6 specialist hours a month",
    ),
    pytest.param(
        "kbs",
        "remote-connections",
        {"prof": "2", "optima": "unlimited", "premium": "unlimited"},
        id="kbs allows 2 / unlimited / unlimited remote connections a month",
    ),
    pytest.param(
        "iotex",
        "onsite-hours",
        {"basic": "0", "standard": "4", "premium": "12"},
        id="iotex includes 0 / 4 / 12 free on-site hours a year",
    ),
    pytest.param(
        "iotex",
        "periodic-visits",
        {"basic": "0", "standard": "0", "premium": "2"},
        id="iotex includes 0 / 0 / 2 periodic visits a year",
    ),
]


@pytest.mark.parametrize(("name", "feature", "values"), FEATURES)
def test_quantity_features_are_the_reference_ones(name, feature, values):
    found = {}
    for plan in catalog(name).plans.values():
        value = plan.features[feature]
        found[plan.code] = "unlimited" if value.unlimited else str(value.quantity)
    assert {plan: Decimal(v) if v != "unlimited" else v for plan, v in found.items()} == {
        plan: Decimal(v) if v != "unlimited" else v for plan, v in values.items()
    }


def test_crystals_garant_states_its_minimum_of_100_registers():
    eligibility = catalog("crystals").plans["garant"].eligibility

    assert (eligibility.unit, eligibility.minimum) == ("register", 100)


def test_a_garant_quote_asks_registers_first_then_stores():
    assert list(catalog("crystals").plans["garant"].quote_questions) == ["register", "store"]


@pytest.mark.parametrize("locale", ["en", "ru", "uk", "fa", "kk"])
def test_the_plural_forms_a_catalog_gives_are_those_cldr_knows(locale):
    assert set(PLURAL_CATEGORIES[locale]) == {*Locale.parse(locale).plural_form.tags, "other"}


# --- broken catalogs: located messages ----------------------------------------------------

BROKEN = [
    # catalog, text to replace, replacement, exact message
    pytest.param(
        "kbs",
        "12m = 69840",
        "13m = 69840",
        "kbs.toml: plans.optima.terms.13m: months must be 1..12",
        id="a 13m term",
    ),
    pytest.param(
        "kbs",
        "[plans.optima.features]\n",
        "[plans.optima.features]\nteleport = true\n",
        "kbs.toml: plans.optima.features.teleport: unknown feature 'teleport'",
        id="an unknown feature",
    ),
    pytest.param(
        "iiko",
        "[plans.contract.unit_prices]\n",
        "[plans.contract.unit_prices]\nprinter = 100\n",
        "iiko.toml: plans.contract.unit_prices.printer: unknown unit 'printer'",
        id="an unknown unit in unit_prices",
    ),
    pytest.param(
        "kbs",
        'hours = "09:00-18:00"',
        'hours = "18:00-09:00"',
        "kbs.toml: calendars.office.hours: '18:00-09:00' must be HH:MM-HH:MM with opening "
        "before closing",
        id="hours closing before opening",
    ),
    pytest.param(
        "kbs",
        'timezone = "Europe/Kyiv"',
        'timezone = "Europe/Atlantis"',
        "kbs.toml: catalog.timezone: unknown time zone 'Europe/Atlantis'",
        id="an unknown time zone",
    ),
    pytest.param(
        "kbs",
        'timezone = "Europe/Kyiv"',
        'timezone = "Europe"',
        "kbs.toml: catalog.timezone: unknown time zone 'Europe'",
        id="a time zone folder",
    ),
    pytest.param(
        "kbs",
        'currency = "UAH"',
        'currency = "XYZ"',
        "kbs.toml: catalog.currency: must be one of RUB, UAH, KZT, IRR, USD, EUR (got 'XYZ')",
        id="an unknown currency",
    ),
    pytest.param(
        "iotex",
        'payment_methods = ["bank-transfer"]',
        'payment_methods = ["card", "bank-transfer"]',
        "iotex.toml: catalog.payment_methods: card payments cannot be taken in IRR",
        id="card payments in IRR",
    ),
    pytest.param(
        "kbs",
        "[plans.prof.loyalty]\n",
        "[plans.prof.loyalty]\n1y = 100\n",
        "kbs.toml: plans.prof.loyalty.1y: the plan does not offer this term",
        id="a loyalty price for a term not offered",
    ),
    pytest.param(
        "kbs",
        'currency = "UAH"\n',
        "",
        "kbs.toml: catalog.currency: is required",
        id="no catalog.currency",
    ),
    pytest.param(
        "kbs",
        'holidays = "UA"',
        'holidays = "XX"',
        "kbs.toml: calendars.office.holidays: unknown holiday country 'XX'",
        id="an unknown holiday country",
    ),
    pytest.param(
        "kbs",
        "reaction = { working_days = 1 }",
        "response = { working_days = 1 }",
        "kbs.toml: plans.optima.sla.response: unknown SLA target 'response'",
        id="an unknown SLA target",
    ),
    pytest.param(
        "crystals",
        "consultation = { hours = 4 }",
        "consultation = { working_hours = 4 }",
        "crystals.toml: plans.garant.sla.consultation: working time needs the plan's calendar",
        id="working time on a plan without a calendar",
    ),
    pytest.param(
        "iiko",
        "blocking = { hours = [1.5, 2.5] }",
        "blocking = { hours = [2.5, 1.5] }",
        "iiko.toml: plans.contract.sla.blocking.hours: a range needs 0 < from < to",
        id="a range upside down",
    ),
    pytest.param(
        "iiko",
        "blocking = { hours = [1.5, 2.5] }",
        "blocking = { weeks = 1 }",
        "iiko.toml: plans.contract.sla.blocking.weeks: unknown unit (use minutes, hours, days, "
        "working_minutes, working_hours, working_days)",
        id="a duration in weeks",
    ),
    pytest.param(
        "iotex",
        "2y = { renewal_only = true, discount_percent = 10 }",
        "2y = { discount_percent = 10 }",
        "iotex.toml: plans.basic.terms.2y: a term discount applies to renewal-only terms",
        id="a discount on a term open to new clients",
    ),
    pytest.param(
        "iiko",
        "12m = {}",
        "7m = {}",
        "iiko.toml: plans.contract.billing.half-year: term 7m is not a whole number of "
        "installments",
        id="half-year billing of a 7-month term",
    ),
    pytest.param(
        "iiko",
        "half-year = 5",
        "quarter = 5",
        "iiko.toml: plans.contract.billing.quarter: unknown billing schedule (use monthly, "
        "half-year, year)",
        id="an unknown billing schedule",
    ),
    pytest.param(
        "iiko",
        "year = 10",
        "year = 100",
        "iiko.toml: plans.contract.billing.year: a discount must be under 100%",
        id="a 100% prepayment discount",
    ),
    pytest.param(
        "crystals",
        'unit = "register"',
        'unit = "till"',
        "crystals.toml: plans.garant.eligibility.unit: unknown unit 'till'",
        id="an eligibility in an unknown unit",
    ),
    pytest.param(
        "crystals",
        'ru = { one = "касса", few = "кассы", many = "касс", other = "кассы" }',
        'ru = { one = "касса", other = "кассы" }',
        "crystals.toml: units.register.counted.ru: needs a word for each of the forms "
        "one, few, many, other",
        id="a Russian count without its few and many forms",
    ),
    pytest.param(
        "crystals",
        'kk = { one = "касса", other = "касса" }',
        'kz = { one = "касса", other = "касса" }',
        "crystals.toml: units.register.counted.kz: unknown locale (use en, ru, uk, fa, kk)",
        id="a count in an unknown locale",
    ),
    pytest.param(
        "crystals",
        "[plans.garant.quote.ask]\nregister =",
        "[plans.garant.quote.ask]\nterminal =",
        "crystals.toml: plans.garant.quote.ask.terminal: unknown unit 'terminal'",
        id="a quote asking for an unknown unit",
    ),
    pytest.param(
        "kbs",
        "[plans.optima]\n",
        '[plans.optima]\nquote = { ask = { workstation = "How many?" } }\n',
        "kbs.toml: plans.optima.quote: only a plan priced on request takes quote requests",
        id="a quote on a plan with published prices",
    ),
    pytest.param(
        "kbs",
        'name = { en = "KBS software support", uk = ',
        'name = { de = "KBS-Softwaresupport", uk = ',
        "kbs.toml: catalog.name.de: unknown locale (use en, ru, uk, fa, kk)",
        id="a name in an unknown locale",
    ),
    pytest.param(
        "kbs",
        'locale = "uk"',
        'locale = "de"',
        "kbs.toml: catalog.locale: must be one of en, ru, uk, fa, kk (got 'de')",
        id="an unknown catalog locale",
    ),
    pytest.param(
        "iotex",
        "price = 3000000",
        "price = 3000000.50",
        "iotex.toml: services.extra-visit.price: IRR prices have 0 decimals",
        id="a price in fractions of a rial",
    ),
    pytest.param(
        "kbs",
        "price = 1500.00",
        "price = 1500.001",
        "kbs.toml: services.hours.price: UAH prices have 2 decimals",
        id="a price in fractions of a kopiyka",
    ),
    pytest.param(
        "kbs",
        "hour_step = 1",
        "hour_step = 0.5",
        "kbs.toml: services.hours.hour_step: bundles are bought in whole hours: set 1",
        id="bundles with half-hour steps",
    ),
    pytest.param(
        "kbs",
        "bundles = [{ hours = 5, price = 6900.00 }]",
        "bundles = [{ hours = 1, price = 6900.00 }]",
        "kbs.toml: services.hours.bundles.0.hours: must be a whole number of at least 2",
        id="a bundle of one hour",
    ),
    pytest.param(
        "kvartplata",
        "amount = 4000",
        "amount = -4000",
        "kvartplata.toml: services.remote-direct.one_time_fee.amount: must be a number of at "
        "least 0",
        id="a negative one-time fee",
    ),
    pytest.param(
        "kbs",
        'default_term = "1m"',
        'default_term = "1y"',
        "kbs.toml: plans.prof.default_term: the plan does not offer 1y",
        id="a default term not offered",
    ),
    pytest.param(
        "iotex",
        "percent = 25",
        "percent = 125",
        "iotex.toml: plans.basic.percent: must be more than 0 and at most 100",
        id="125 percent of the licence value",
    ),
    pytest.param(
        "kbs",
        'days = ["mon", "tue", "wed", "thu", "fri"]',
        'days = ["monday"]',
        "kbs.toml: calendars.office.days: must be a list of mon, tue, wed, thu, fri, sat, sun",
        id="a weekday spelled out",
    ),
    pytest.param(
        "kbs",
        'pricing = "term-table"\ncalendar = "office"',
        'pricing = "term-table"\ncalendar = "shop"',
        "kbs.toml: plans.prof.calendar: unknown calendar 'shop'",
        id="an unknown calendar",
    ),
    pytest.param(
        "kbs",
        'legal_name = { en = "SOFTCOM LLC", uk = "ТОВ «СОФТКОМ»" }',
        "",
        "kbs.toml: provider.legal_name: is required",
        id="a provider without its legal name",
    ),
    pytest.param(
        "kbs",
        'iban = "UA223052990000026001234567890"',
        'iban = "UA223052990000026001234567891"',
        "kbs.toml: provider.bank.iban: 'UA223052990000026001234567891': invalid checksum digits",
        id="an IBAN whose checksum is wrong",
    ),
    pytest.param(
        "kbs",
        'logo = "kbs.svg"',
        'logo = "softcom.png"',
        "kbs.toml: provider.logo: the file 'softcom.png' does not exist beside the catalog",
        id="a logo that does not exist",
    ),
    pytest.param(
        "kbs",
        'logo = "kbs.svg"',
        'logo = "../../config.py"',
        "kbs.toml: provider.logo: must be the name of an .svg or .png file beside the catalog",
        id="a logo outside the catalog's folder",
    ),
    pytest.param(
        "kbs",
        'ua-edrpou = "38123450"',
        'ua-edrpou = "abc"',
        "kbs.toml: provider.numbers.ua-edrpou: 'abc': the number has an invalid length",
        id="an EDRPOU that is not a number",
    ),
    pytest.param(
        "kbs",
        'ua-edrpou = "38123450"',
        'ua-edrpou = "38123451"',
        "kbs.toml: provider.numbers.ua-edrpou: '38123451': "
        "the number's checksum or check digit is invalid",
        id="an EDRPOU with a wrong check digit",
    ),
    pytest.param(
        "iiko",
        'ru-inn = "5507123457"',
        'ru-inn = "5507123456"',
        "iiko.toml: provider.numbers.ru-inn: '5507123456': "
        "the number's checksum or check digit is invalid",
        id="an INN with a wrong check digit",
    ),
    pytest.param(
        "iiko",
        'account = "40702810304500001234"',
        'account = "40702810404500001234"',
        "iiko.toml: provider.bank.account: '40702810404500001234': "
        "does not match the bank's BIK (control key)",
        id="a Russian account that does not match its BIK",
    ),
    pytest.param(
        "kbs",
        'ua-edrpou = "38123450"',
        'kz-bin = "120340001231"',
        "kbs.toml: provider.numbers.kz-bin: '120340001231': the checksum does not match",
        id="a BIN with a wrong check digit",
    ),
    pytest.param(
        "kbs",
        'ua-edrpou = "38123450"',
        'vat-id = "38123450"',
        "kbs.toml: provider.numbers.vat-id: unknown number (use ua-edrpou, ua-rnokpp, ua-ipn, "
        "ru-inn, ru-kpp, ru-ogrn, kz-bin, ir-national-id, ir-economic-code)",
        id="a number of a kind we do not know",
    ),
    pytest.param(
        "kbs",
        'phones = ["+380 44 123 45 67"]',
        'phones = ["call us"]',
        "kbs.toml: provider.phones.0: 'call us' is not a phone number in UA",
        id="a phone that is not a number",
    ),
    pytest.param(
        "iiko",
        'rate = 22\nprices = "include"',
        'rate = 22\nprices = "inclusive"',
        "iiko.toml: provider.vat.prices: must be one of include, exclude (got 'inclusive')",
        id="VAT prices neither including nor excluding it",
    ),
    pytest.param(
        "iiko",
        "rate = 22\n",
        "rate = 120\n",
        "iiko.toml: provider.vat.rate: must be more than 0 and at most 50",
        id="a VAT rate over 50%",
    ),
    pytest.param(
        "kbs",
        "payer = false",
        "payer = false\nrate = 20",
        "kbs.toml: provider.vat.rate: a provider who pays no VAT states no rate",
        id="a VAT rate for a provider who pays none",
    ),
    pytest.param(
        "iiko",
        "[units.workstation]",
        "[units.WorkStation]",
        "iiko.toml: units.WorkStation: a code is lower-case letters, digits and dashes",
        id="a unit code in capitals",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), BROKEN)
def test_a_broken_catalog_is_reported_where_it_is_broken(name, old, new, message):
    text = catalog_text(name)
    assert old in text, "the case no longer matches the bundled file"

    with pytest.raises(CatalogError) as caught:
        parse_catalog(text.replace(old, new, 1), source=f"{name}.toml")

    assert str(caught.value) == message


def test_a_file_that_is_not_toml_is_reported_as_such():
    with pytest.raises(CatalogError) as caught:
        parse_catalog("this is = not = toml", source="kbs.toml")

    assert str(caught.value).startswith("kbs.toml: not valid TOML (")
    assert caught.value.path == ""


def test_a_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path / "nowhere.toml")

    assert caught.value.reason.startswith("cannot be read")


LET_THROUGH = [
    # catalog, text to replace, replacement, path of the mistake
    pytest.param(
        "kbs",
        'holidays = "UA"',
        'holidays = "UA"\nsubdivision = "ZZ"',
        "calendars.office.subdivision",
        id="an unknown holiday subdivision is refused when loading, not when a clock runs",
    ),
    pytest.param(
        "kbs",
        "bundles = [{ hours = 5, price = 6900.00 }]",
        "bundles = 5",
        "services.hours.bundles",
        id="bundles that are not a list",
    ),
    pytest.param(
        "kbs",
        "1m = 2460",
        '1m = "1e999999999"',
        "plans.prof.terms.1m",
        id="a price too large to be counted in kopiykas",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "path"), LET_THROUGH)
def test_a_mistake_is_a_catalog_error_at_its_path(name, old, new, path):
    text = catalog_text(name)
    assert old in text, "the case no longer matches the bundled file"

    with pytest.raises(CatalogError) as caught:
        parse_catalog(text.replace(old, new, 1), source=f"{name}.toml")

    assert caught.value.path == path


# --- garbage never escapes as anything but a CatalogError ---------------------------------

GARBAGE = [
    pytest.param("", id="an empty file"),
    pytest.param("\x00", id="a NUL byte"),
    pytest.param("[catalog", id="an unclosed table"),
    pytest.param("catalog = 1", id="catalog as a number"),
    pytest.param("[[catalog]]", id="catalog as an array of tables"),
    pytest.param("[catalog]\ncurrency = 5", id="a currency as a number"),
    pytest.param('[catalog]\ncurrency = "UAH"\ntimezone = "/etc/passwd"', id="a path as time zone"),
    pytest.param("a = " + "[" * 1000 + "]" * 1000, id="arrays nested 1000 deep"),
    pytest.param("a = " + "9" * 5000, id="an integer of 5000 digits"),
    pytest.param("plans = [1, 2]", id="plans as a list"),
    pytest.param("\ufeff[catalog]", id="a byte-order mark"),
]


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_is_a_catalog_error(text):
    with pytest.raises(CatalogError):
        parse_catalog(text, source="garbage.toml")


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_catalog_missing_any_one_line_loads_or_is_a_catalog_error(name):
    lines = catalog_text(name).splitlines(keepends=True)
    escaped = []
    for index in range(len(lines)):
        try:
            parse_catalog("".join(lines[:index] + lines[index + 1 :]), source=f"{name}.toml")
        except CatalogError:
            pass
        except Exception as error:
            escaped.append((index + 1, lines[index].strip(), repr(error)))
    assert escaped == []


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_catalog_cut_short_anywhere_is_a_catalog_error_or_loads(name):
    text = catalog_text(name)
    escaped = []
    for cut in range(0, len(text), 37):
        try:
            parse_catalog(text[:cut], source=f"{name}.toml")
        except CatalogError:
            pass
        except Exception as error:
            escaped.append((cut, repr(error)))
    assert escaped == []


# --- domain objects are immutable ---------------------------------------------------------


def frozen_objects():
    kbs, iiko, iotex = catalog("kbs"), catalog("iiko"), catalog("iotex")
    plan_quote = ask("iiko", {"plan": "contract", "term": "12m", "billing": "half-year"})
    service_quote = ask("kvartplata", {"service": "remote-direct", "hours": "1"})
    return [
        ("the catalog", kbs, "currency", "USD"),
        ("a plan", kbs.plans["optima"], "pricing", "included"),
        ("a term offer", kbs.plans["optima"].terms[Term("months", 1)], "price", Decimal(1)),
        ("a calendar", kbs.calendars["office"], "days", frozenset({5, 6})),
        ("an SLA promise", kbs.plans["optima"].sla["reaction"], "upper", None),
        ("a duration", kbs.plans["optima"].sla["reaction"].upper, "amount", Decimal(9)),
        ("a feature", kbs.features[0], "kind", "text"),
        ("a feature value", kbs.plans["optima"].features["specialist-hours"], "quantity", 99),
        ("an SLA target", kbs.sla_targets["reaction"], "code", "x"),
        ("a unit", iiko.units["workstation"], "default_quantity", 5),
        ("an eligibility", catalog("crystals").plans["garant"].eligibility, "minimum", 1),
        ("a service", kbs.services["hours"], "price", Decimal(1)),
        ("a bundle", kbs.services["hours"].bundles[0], "price", Decimal(1)),
        ("a fee", catalog("kvartplata").services["remote-direct"].one_time_fee, "amount", 0),
        ("a term", Term.parse("7m"), "count", 8),
        ("a quote", plan_quote, "total", Decimal(0)),
        ("a quote line", plan_quote.lines[0], "amount", Decimal(0)),
        ("an installment", plan_quote.installments[0], "amount", Decimal(0)),
        (
            "a plan request",
            parse_quote_request(
                iotex, {"plan": "basic", "term": "1y", "licence_value": "5"}, TODAY
            ),
            "licence_value",
            Decimal(1),
        ),
        (
            "a service request",
            parse_quote_request(kbs, {"service": "hours", "hours": "2"}, TODAY),
            "hours",
            Decimal(1),
        ),
        ("a service quote", service_quote, "lines", ()),
        (
            "an SLA answer",
            due_at(kbs, "optima", "reaction", moment("2027-01-18T09:00:00+02:00")),
            "due",
            None,
        ),
    ]


@pytest.mark.parametrize(
    ("thing", "attribute", "value"),
    [pytest.param(*row[1:], id=f"{row[0]} cannot be changed") for row in frozen_objects()],
)
def test_domain_objects_are_immutable(thing, attribute, value):
    before = getattr(thing, attribute)

    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(thing, attribute, value)

    assert getattr(thing, attribute) == before


def test_a_localized_text_cannot_be_changed():
    name = catalog("kbs").name

    with pytest.raises(TypeError):
        name["en"] = "changed"  # type: ignore[index]
    assert name["en"] == "KBS software support"


@pytest.mark.parametrize("name", BUNDLED)
def test_the_shared_catalog_still_equals_a_fresh_load_after_being_used(name):
    # Quotes and clock questions (all the other tests) never change the catalog they read.
    assert catalog(name) == load_catalog(name)


MAPPINGS = [
    pytest.param(lambda c: c.plans, "gold", id="the plans of a catalog"),
    pytest.param(lambda c: c.services, "extra", id="the services of a catalog"),
    pytest.param(lambda c: c.plans["optima"].terms, "13m", id="the terms of a plan"),
    pytest.param(lambda c: c.plans["optima"].loyalty, "1m", id="the loyalty prices of a plan"),
    pytest.param(lambda c: c.plans["optima"].sla, "fast", id="the SLA promises of a plan"),
]


@pytest.mark.parametrize(("mapping", "key"), MAPPINGS)
def test_the_tables_inside_a_catalog_cannot_be_changed(mapping, key):
    table = mapping(catalog("kbs"))
    with pytest.raises(TypeError):
        table[key] = None
    assert key not in table
