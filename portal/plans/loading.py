"""Read a catalog file (TOML) and validate it into immutable domain objects.

A mistake in a file is reported with the file, the path inside it and the
reason, as in ``kbs.toml: plans.optima.terms.13m: months must be 1..12``.
"""

from __future__ import annotations

import contextlib
import functools
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

import holidays
import phonenumbers

from portal.plans.catalog import (
    BILLING_MONTHS,
    PLURAL_CATEGORIES,
    Bundle,
    Calendar,
    CallbackPromise,
    Catalog,
    Duration,
    Eligibility,
    Feature,
    FeatureValue,
    Fee,
    Intervals,
    LocalizedText,
    Plan,
    PlanSla,
    ScopeItem,
    Service,
    SlaTarget,
    TermOffer,
    Unit,
    VisitTerms,
    WorkTerms,
    interval_length,
    parse_intervals,
)
from portal.plans.errors import PlanError
from portal.plans.money import MINOR_UNITS, minor_unit, round_money
from portal.plans.provider import (
    LOGO_MAX_BYTES,
    LOGO_TYPES,
    NUMBER_KINDS,
    BankAccount,
    Logo,
    Provider,
    RegistrationNumber,
    Vat,
    check_bic,
    check_bik,
    check_iban,
    check_ru_account,
)
from portal.plans.terms import Term

CATALOG_DIR = Path(__file__).parent / "catalogs"
LOCALES = ("en", "ru", "uk", "fa", "kk")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_holiday_country(code: str | None) -> bool:
    """Whether the ``holidays`` package knows the public holidays of country ``code``."""
    return code in holidays.list_supported_countries()


FEATURE_KINDS = ("yes-no", "quantity", "duration", "text")
PLAN_PRICING = (
    "term-table",
    "per-unit",
    "per-request",
    "percent-of-licence",
    "on-request",
    "included",
)
_TERMLESS = ("per-request", "included")
SERVICE_PRICING = ("hourly", "fixed")
TARGET_APPLIES = ("every-ticket", "claimed", "confirmed-defect")
TARGET_MET_BY = ("first-reply", "resolution", "fix-date")
SERVICE_KINDS = ("hours", "remote-session", "onsite", "extra")
PAYMENT_METHODS = ("card", "bank-transfer")
DURATION_UNITS = (
    "minutes",
    "hours",
    "days",
    "working_minutes",
    "working_hours",
    "working_days",
)
# Larger than any price or duration a catalog needs, small enough for exact arithmetic.
MAX_NUMBER = Decimal(10) ** 15
MAX_DURATION = Decimal(1000)  # of any duration unit: 1000 working days is four years
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEBSITE = re.compile(r"^(https?://)?[\w-]+(\.[\w-]+)+(/\S*)?$")
MAX_VAT_RATE = Decimal(50)


class CatalogError(ValueError):
    """A catalog file that cannot be used: ``source``, ``path`` inside it and ``reason``."""

    def __init__(self, source: str, path: str, reason: str):
        self.source = source
        self.path = path
        self.reason = reason
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(where + reason)


@functools.cache
def bundled_catalog_names() -> tuple[str, ...]:
    """Names of the catalogs shipped with the portal (``iiko``, ``kbs``...)."""
    return tuple(sorted(p.stem for p in CATALOG_DIR.glob("*.toml")))


def bundled_catalog_path(name: str) -> Path:
    """The file of a bundled catalog, or a path given as is (``./my.toml``)."""
    if name in bundled_catalog_names():
        return CATALOG_DIR / f"{name}.toml"
    return Path(name)


def load_catalog(name_or_path: str | Path) -> Catalog:
    """Read and validate a bundled catalog by name, or a catalog file by path."""
    path = bundled_catalog_path(str(name_or_path))
    text, files = read_catalog_source(path)
    return parse_catalog(text, source=path.name, files=files)


def read_catalog_source(path: Path) -> tuple[str, dict[str, bytes]]:
    """A catalog file's text and the files it names beside it (the provider's logo)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(str(path), "", f"cannot be read ({exc.strerror})") from None
    files = {}
    name = _logo_name(text)
    if name and Path(name).name == name:  # a bare file name: never a path out of the folder
        # A missing file: parse_catalog says which, and where the catalog names it.
        with contextlib.suppress(OSError):
            files[name] = (path.parent / name).read_bytes()
    return text, files


def _logo_name(text: str) -> str | None:
    try:
        logo = tomllib.loads(text).get("provider", {}).get("logo")
    except (tomllib.TOMLDecodeError, RecursionError, ValueError, AttributeError):
        return None
    return logo if isinstance(logo, str) else None


class FolderFiles(Mapping[str, bytes]):
    """The files of a folder by name, read when asked for (the bundled catalogs' logos)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __getitem__(self, name: str) -> bytes:
        path = self.folder / name
        if Path(name).name != name or not path.is_file():
            raise KeyError(name)
        return path.read_bytes()

    def __iter__(self):
        return (path.name for path in self.folder.iterdir() if path.is_file())

    def __len__(self) -> int:
        return sum(1 for _ in self)


BUNDLED_FILES = FolderFiles(CATALOG_DIR)


def catalog_code_of(text: str) -> str | None:
    """The ``[catalog] code`` of a catalog text, without validating it (None if unreadable)."""
    try:
        code = tomllib.loads(text).get("catalog", {}).get("code")
    except (tomllib.TOMLDecodeError, RecursionError, ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def parse_catalog(
    text: str, source: str = "<catalog>", files: Mapping[str, bytes] | None = None
) -> Catalog:
    """Validate catalog TOML ``text`` into a :class:`Catalog`; ``source`` names it in errors.

    ``files`` holds the files the catalog names (the provider's logo) by name; without
    it, they are looked for beside the bundled catalogs.
    """
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        # ValueError: an integer past Python's digit limit; RecursionError: absurd nesting.
        reason = str(exc) if isinstance(exc, tomllib.TOMLDecodeError) else type(exc).__name__
        raise CatalogError(source, "", f"not valid TOML ({reason})") from None
    reader = _CatalogReader(source, BUNDLED_FILES if files is None else files)
    return reader.catalog(_Node(data, "", source))


class _Node:
    """A table of the file with its dotted path, and typed accessors that locate mistakes."""

    def __init__(self, data: Mapping[str, Any], path: str, source: str):
        self.data = data
        self.path = path
        self.source = source

    def error(self, key: str | None, reason: str) -> CatalogError:
        return CatalogError(self.source, self.at(key), reason)

    def at(self, key: str | None) -> str:
        if key is None:
            return self.path
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.error(key, "is required")
            return default
        return self.data[key]

    def child(self, key: str, required: bool = True) -> _Node | None:
        value = self.raw(key, ... if required else None)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return _Node(value, self.at(key), self.source)

    def children(self, key: str, required: bool = True) -> dict[str, _Node]:
        """The sub-tables of ``key``, whose names must be codes (``fiscal-register``)."""
        node = self.child(key, required)
        if node is None:
            return {}
        return {node.code(k): node.child(k) for k in node.data}

    def string(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None) -> Any:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, str) or not value:
            raise self.error(key, "must be a non-empty string")
        if choices and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)} (got '{value}')")
        return value

    def decimal(self, key: str, default: Any = ..., minimum: Decimal = Decimal(0)) -> Any:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        return self.to_decimal(key, value, minimum)

    def to_decimal(self, key: str, value: Any, minimum: Decimal = Decimal(0)) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(key, "must be a number")
        try:
            # Floats come from TOML literals like 1500.00: str() keeps what was written.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.error(key, f"'{value}' is not a number") from None
        if not number.is_finite() or number < minimum:
            raise self.error(key, f"must be a number of at least {minimum}")
        if number > MAX_NUMBER:
            raise self.error(key, f"must be at most {MAX_NUMBER:,}")
        return number

    def integer(self, key: str, default: Any = ..., minimum: int = 0) -> Any:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be a whole number of at least {minimum}")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def text(self, key: str, required: bool = True) -> LocalizedText | None:
        value = self.raw(key, ... if required else None)
        if value is None:
            return None
        return self.to_text(key, value)

    def to_text(self, key: str, value: Any) -> LocalizedText:
        if isinstance(value, str):
            return LocalizedText({"en": value})
        if not isinstance(value, Mapping) or not value:
            raise self.error(key, "must be a text or a table of texts by locale")
        for locale, text in value.items():
            if locale not in LOCALES:
                raise self.error(f"{key}.{locale}", f"unknown locale (use {', '.join(LOCALES)})")
            if not isinstance(text, str) or not text.strip():
                raise self.error(f"{key}.{locale}", "must be a non-empty string")
        return LocalizedText(value)

    def code(self, key: str) -> str:
        if not _CODE.fullmatch(key):
            raise self.error(key, "a code is lower-case letters, digits and dashes")
        return key

    def term(self, key: str) -> Term:
        if key == "budget":
            return Term.any_budget_year()
        try:
            return Term.parse(key)
        except PlanError as exc:
            raise CatalogError(self.source, self.at(key), _reason(exc, key)) from None


def _reason(exc: PlanError, value: str) -> str:
    """The engine's message without the echoed value: the path already names it."""
    return str(exc).removeprefix(f"{value}: ")


class _CatalogReader:
    def __init__(self, source: str, files: Mapping[str, bytes]):
        self.source = source
        self.files = files
        self.currency = "RUB"

    def money(self, node: _Node, key: str, value: Any) -> Decimal:
        """A price in the catalog's currency, kept to the currency's minor unit (IRR: 0)."""
        amount = node.to_decimal(key, value)
        exact = round_money(amount, self.currency)
        if exact != amount:
            raise node.error(
                key, f"{self.currency} prices have {minor_unit(self.currency)} decimals"
            )
        return exact

    def catalog(self, root: _Node) -> Catalog:
        head = root.child("catalog")
        currency = head.string("currency", choices=tuple(MINOR_UNITS))
        self.currency = currency
        timezone = self.timezone(head, "timezone")
        payment_methods = head.raw("payment_methods", list(PAYMENT_METHODS))
        if not isinstance(payment_methods, list) or not payment_methods:
            raise head.error("payment_methods", "must be a list of card, bank-transfer")
        for method in payment_methods:
            if method not in PAYMENT_METHODS:
                raise head.error("payment_methods", f"unknown payment method '{method}'")
        if "card" in payment_methods and currency == "IRR":
            raise head.error("payment_methods", "card payments cannot be taken in IRR")

        units = {
            code: Unit(
                code,
                node.text("name"),
                node.integer("default", 0),
                node.text("description", required=False),
                self.counted(node, "counted"),
            )
            for code, node in root.children("units", required=False).items()
        }
        groups_node = root.child("feature_groups", required=False)
        groups = {
            groups_node.code(code): groups_node.to_text(code, value)
            for code, value in (groups_node.data if groups_node else {}).items()
        }
        features = self.features(root, groups)
        calendars = {
            code: self.calendar(code, node, timezone)
            for code, node in root.children("calendars", required=False).items()
        }
        sla_targets = {
            code: SlaTarget(
                code,
                node.text("name"),
                node.text("description", required=False),
                node.string("applies", "claimed", choices=TARGET_APPLIES),
                node.string("met_by", "resolution", choices=TARGET_MET_BY),
            )
            for code, node in root.children("sla_targets", required=False).items()
        }
        context = {
            "units": units,
            "features": {f.code: f for f in features},
            "calendars": calendars,
            "sla_targets": sla_targets,
        }
        plans = {
            code: self.plan(code, node, context) for code, node in root.children("plans").items()
        }
        if not plans:
            raise root.error("plans", "a catalog needs at least one plan")
        if all(plan.archived for plan in plans.values()):
            raise root.error("plans", "a catalog needs at least one plan that is not archived")
        services = {
            code: self.service(code, node)
            for code, node in root.children("services", required=False).items()
        }
        out_of_scope = tuple(
            ScopeItem(code, node.text("name"), node.text("help", required=False))
            for code, node in root.children("out_of_scope", required=False).items()
        )
        callback = None
        callback_node = root.child("callback", required=False)
        if callback_node is not None:
            within, _ = self.duration(callback_node, "within", callback_node.raw("within"))
            calendar = callback_node.string("calendar", None)
            if calendar is not None and calendar not in calendars:
                raise callback_node.error("calendar", f"unknown calendar '{calendar}'")
            if within.working and calendar is None:
                raise callback_node.error("within", "working time needs a calendar")
            callback = CallbackPromise(within, calendar)
        work = self.work(root, features, services, units, calendars)
        blocks = head.raw("visit_blocks", [])
        if not isinstance(blocks, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and 0 < b <= 24 for b in blocks
        ):
            raise head.error("visit_blocks", "must be a list of whole hours")
        visits = self.visits(root, features, services, plans, calendars, out_of_scope, blocks)
        provider_node = root.child("provider", required=False)
        if provider_node is not None:
            if head.has("provider"):
                raise head.error("provider", "the [provider] section names the provider")
            provider = self.provider(provider_node)
        else:
            # Versions published before the [provider] section: a brand, nothing more.
            brand = head.text("provider", required=False)
            provider = Provider(brand, brand) if brand else None
        return Catalog(
            code=head.code(head.string("code")),
            name=head.text("name"),
            provider=provider,
            currency=currency,
            locale=head.string("locale", choices=LOCALES),
            timezone=timezone,
            plans=_frozen(plans),
            units=_frozen(units),
            features=features,
            feature_groups=_frozen(groups),
            calendars=_frozen(calendars),
            sla_targets=_frozen(sla_targets),
            services=_frozen(services),
            out_of_scope=out_of_scope,
            payment_methods=tuple(payment_methods),
            visit_blocks=tuple(blocks),
            callback=callback,
            work=work,
            visits=visits,
        )

    def work(self, root: _Node, features, services, units, calendars) -> WorkTerms:
        """The ``[work]`` section: which feature, service, unit and calendar count time."""
        node = root.child("work", required=False)
        if node is None:
            return WorkTerms()
        by_code = {feature.code: feature for feature in features}
        monthly = {}
        for key in ("included", "connections"):
            code = node.string(key, None)
            if code is not None:
                feature = by_code.get(code)
                if feature is None:
                    raise node.error(key, f"unknown feature '{code}'")
                if feature.kind != "quantity" or feature.per != "month":
                    raise node.error(key, f"feature '{code}' is not a quantity per month")
            monthly[key] = code
        extra = node.string("extra", None)
        if extra is not None:
            if extra not in services:
                raise node.error("extra", f"unknown service '{extra}'")
            if services[extra].pricing != "hourly":
                raise node.error("extra", f"service '{extra}' is not priced by the hour")
        report_unit = node.string("report_unit", None)
        if report_unit is not None and report_unit not in units:
            raise node.error("report_unit", f"unknown unit '{report_unit}'")
        sessions = node.string("sessions", None)
        if sessions is not None and sessions not in calendars:
            raise node.error("sessions", f"unknown calendar '{sessions}'")
        return WorkTerms(
            included=monthly["included"],
            extra=extra,
            connections=monthly["connections"],
            acts=node.boolean("acts"),
            report_unit=report_unit,
            sessions=sessions,
        )

    def visits(
        self, root: _Node, features, services, plans, calendars, out_of_scope, blocks
    ) -> VisitTerms:
        """The ``[visits]`` section: the technicians' calendar, the area, quotas and prices."""
        node = root.child("visits", required=False)
        if node is None:
            return VisitTerms()
        calendar = node.string("calendar")
        if calendar not in calendars:
            raise node.error("calendar", f"unknown calendar '{calendar}'")
        by_code = {feature.code: feature for feature in features}
        yearly = {}
        for key in ("free_hours", "periodic"):
            code = node.string(key, None)
            if code is not None:
                feature = by_code.get(code)
                if feature is None:
                    raise node.error(key, f"unknown feature '{code}'")
                if feature.kind != "quantity" or feature.per != "year":
                    raise node.error(key, f"feature '{code}' is not a quantity per year")
            yearly[key] = code
        periodic_hours = node.integer("periodic_hours", None, minimum=1)
        if yearly["periodic"] is not None and periodic_hours not in blocks:
            raise node.error("periodic_hours", "must be one of the catalog's visit_blocks")
        plan_lists = {}
        for key in ("priority", "planned"):
            codes = node.raw(key, [])
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise node.error(key, "must be a list of plan codes")
            for code in codes:
                if code not in plans:
                    raise node.error(key, f"unknown plan '{code}'")
            plan_lists[key] = tuple(codes)
        onsite = node.string("onsite", None)
        if onsite is not None and (onsite not in services or services[onsite].pricing != "hourly"):
            raise node.error("onsite", f"'{onsite}' is not a service priced by the hour")
        extra_periodic = node.string("extra_periodic", None)
        if extra_periodic is not None and (
            extra_periodic not in services or services[extra_periodic].pricing != "fixed"
        ):
            raise node.error("extra_periodic", f"'{extra_periodic}' is not a fixed-price service")
        travel = node.string("travel", None)
        if travel is not None and travel not in {item.code for item in out_of_scope}:
            raise node.error("travel", f"unknown out-of-scope item '{travel}'")
        return VisitTerms(
            calendar=calendar,
            area=node.text("area", required=False),
            free_hours=yearly["free_hours"],
            periodic=yearly["periodic"],
            periodic_hours=periodic_hours,
            priority=plan_lists["priority"],
            onsite=onsite,
            extra_periodic=extra_periodic,
            travel=travel,
            planned=plan_lists["planned"],
            notice_hours=node.integer("notice_hours", 4),
            change_hours=node.integer("change_hours", 24),
        )

    def provider(self, node: _Node) -> Provider:
        country = node.string("country")
        if country not in phonenumbers.SUPPORTED_REGIONS:
            raise node.error("country", f"'{country}' is not a country code such as UA or RU")
        phones = node.raw("phones", [])
        if not isinstance(phones, list):
            raise node.error("phones", "must be a list of phone numbers")
        for index, phone in enumerate(phones):
            if not isinstance(phone, str) or not _possible_phone(phone, country):
                raise node.error(f"phones.{index}", f"'{phone}' is not a phone number in {country}")
        email = node.string("email", None)
        if email is not None and not _EMAIL.fullmatch(email):
            raise node.error("email", f"'{email}' is not an e-mail address")
        website = node.string("website", None)
        if website is not None and not _WEBSITE.fullmatch(website):
            raise node.error("website", f"'{website}' is not a web address")
        numbers = []
        numbers_node = node.child("numbers", required=False)
        for kind in numbers_node.data if numbers_node else {}:
            if kind not in NUMBER_KINDS:
                raise numbers_node.error(kind, f"unknown number (use {', '.join(NUMBER_KINDS)})")
            numbers.append(
                RegistrationNumber(kind, self.checked(numbers_node, kind, NUMBER_KINDS[kind].check))
            )
        return Provider(
            country=country,
            brand=node.text("brand"),
            legal_name=node.text("legal_name"),
            logo=self.logo(node),
            address=node.text("address", required=False),
            phones=tuple(phones),
            email=email,
            website=website,
            support_hours=node.text("support_hours", required=False),
            numbers=tuple(numbers),
            bank=self.bank(node.child("bank", required=False)),
            vat=self.vat(node.child("vat")),
            terms=node.text("terms", required=False),
        )

    def checked(self, node: _Node, key: str, check) -> str:
        """``node.key`` as a string passed through ``check`` (compact form), or a located error."""
        value = node.string(key)
        try:
            return check(value)
        except ValueError as exc:
            raise node.error(key, f"'{value}': {exc}") from None

    def logo(self, node: _Node) -> Logo | None:
        name = node.string("logo", None)
        if name is None:
            return None
        suffix = Path(name).suffix.lower()
        if Path(name).name != name or suffix not in LOGO_TYPES:
            raise node.error("logo", "must be the name of an .svg or .png file beside the catalog")
        try:
            content = self.files[name]
        except KeyError:
            content = None
        if content is None:
            raise node.error("logo", f"the file '{name}' does not exist beside the catalog")
        if len(content) > LOGO_MAX_BYTES:
            raise node.error("logo", f"'{name}' is over {LOGO_MAX_BYTES // 1024} KB")
        is_png = content.startswith(b"\x89PNG\r\n\x1a\n")
        is_svg = b"<svg" in content[:1024] and not is_png
        if (suffix == ".png") != is_png or (suffix == ".svg") != is_svg:
            raise node.error("logo", f"'{name}' is not a {suffix[1:].upper()} image")
        return Logo(name, LOGO_TYPES[suffix], content)

    def bank(self, node: _Node | None) -> BankAccount | None:
        if node is None:
            return None
        fields = {
            key: self.checked(node, key, check) if node.has(key) else None
            for key, check in (("iban", check_iban), ("bic", check_bic), ("bik", check_bik))
        }
        if node.has("mfo"):
            fields["mfo"] = self.checked(node, "mfo", lambda v: _digits_only(v, 6))
        bik = fields["bik"]
        russian = bik is not None and bik.isdigit()
        for key, correspondent in (("account", False), ("correspondent_account", True)):
            if not node.has(key):
                continue
            if russian:
                fields[key] = self.checked(
                    node, key, lambda v, c=correspondent: check_ru_account(v, bik, c)
                )
            elif correspondent:
                raise node.error(key, "a correspondent account needs the bank's Russian BIK")
            else:
                fields[key] = self.checked(node, key, lambda v: v.strip())
        if fields["iban"] is None and fields.get("account") is None:
            raise node.error(None, "bank details need an iban or an account")
        return BankAccount(bank=node.text("name"), **fields)

    def vat(self, node: _Node) -> Vat:
        if not node.boolean("payer", default=...):
            for key in ("rate", "prices"):
                if node.has(key):
                    raise node.error(key, "a provider who pays no VAT states no rate")
            return Vat()
        rate = node.decimal("rate")
        if not Decimal(0) < rate <= MAX_VAT_RATE:
            raise node.error("rate", f"must be more than 0 and at most {MAX_VAT_RATE}")
        prices = node.string("prices", choices=("include", "exclude"))
        return Vat(rate=rate, included=prices == "include")

    def timezone(self, node: _Node, key: str, default: Any = ...) -> str:
        name = node.string(key, default)
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # a folder: OSError
            raise node.error(key, f"unknown time zone '{name}'") from None
        return name

    def features(self, root: _Node, groups: Mapping[str, LocalizedText]) -> tuple[Feature, ...]:
        features = []
        for code, node in root.children("features", required=False).items():
            kind = node.string("kind", choices=FEATURE_KINDS)
            group = node.string("group", "general")
            if groups and group not in groups:
                raise node.error("group", f"unknown feature group '{group}'")
            unit = node.text("unit", required=False)
            if kind == "quantity" and unit is None:
                raise node.error("unit", "a quantity feature needs a unit")
            per = node.string("per", None, choices=("month", "year"))
            features.append(Feature(code, group, kind, node.text("name"), unit, per))
        return tuple(features)

    def calendar(self, code: str, node: _Node, default_timezone: str) -> Calendar:
        days = node.raw("days")
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            raise node.error("days", f"must be a list of {', '.join(WEEKDAYS)}")
        weekdays = frozenset(WEEKDAYS.index(d) for d in days)
        hours = self.intervals(node, "hours", node.string("hours"))
        weekday_hours = []
        weekday_node = node.child("weekday_hours", required=False)
        for name, value in (weekday_node.data if weekday_node else {}).items():
            if name not in WEEKDAYS:
                raise weekday_node.error(name, f"must be one of {', '.join(WEEKDAYS)}")
            if WEEKDAYS.index(name) not in weekdays:
                raise weekday_node.error(name, "is not among the calendar's days")
            weekday_hours.append((WEEKDAYS.index(name), self.intervals(weekday_node, name, value)))
        exceptions = []
        exceptions_node = node.child("exceptions", required=False)
        for key, value in (exceptions_node.data if exceptions_node else {}).items():
            try:
                day = date.fromisoformat(key) if _DAY.fullmatch(key) else None
            except ValueError:
                day = None
            if day is None:
                raise exceptions_node.error(key, "a dated exception is YYYY-MM-DD")
            closed = value == "closed"
            hours_of_day = () if closed else self.intervals(exceptions_node, key, value)
            exceptions.append((day, hours_of_day))
        country = node.string("holidays", None)
        subdivision = node.string("subdivision", None)
        if country is not None:
            supported = holidays.list_supported_countries()
            if not is_holiday_country(country):
                raise node.error("holidays", f"unknown holiday country '{country}'")
            if subdivision is not None and subdivision not in supported[country]:
                raise node.error("subdivision", f"{country} has no subdivision '{subdivision}'")
        elif subdivision is not None:
            raise node.error("subdivision", "a subdivision needs a holidays country")
        shortened = timedelta(0)
        if node.has("shortened_before_holidays"):
            if country is None:
                raise node.error("shortened_before_holidays", "needs a holidays country")
            upper, _ = self.duration(
                node, "shortened_before_holidays", node.raw("shortened_before_holidays")
            )
            if upper.working or upper.unit == "days":
                raise node.error("shortened_before_holidays", "is given in minutes or hours")
            shortened = upper.timedelta()
            if shortened >= interval_length(hours):
                raise node.error(
                    "shortened_before_holidays", "must be shorter than the working day"
                )
        return Calendar(
            code=code,
            timezone=self.timezone(node, "timezone", default_timezone),
            days=weekdays,
            hours=hours,
            holidays_country=country,
            holidays_subdivision=subdivision,
            weekday_hours=tuple(sorted(weekday_hours)),
            exceptions=tuple(sorted(exceptions)),
            shortened_before_holidays=shortened,
        )

    def intervals(self, node: _Node, key: str, value: Any) -> Intervals:
        """``"09:00-13:00, 14:00-18:00"``: a day's intervals, in order, none overlapping."""
        if not isinstance(value, str):
            raise node.error(key, "must be hours such as '09:00-13:00, 14:00-18:00'")
        try:
            return parse_intervals(value)
        except ValueError as error:
            raise node.error(key, str(error)) from None

    def duration(self, node: _Node, key: str, value: Any, ranges: bool = False) -> tuple:
        """A ``{hours = 4}``-style table: (upper, lower or None)."""
        if not isinstance(value, Mapping) or len(value) != 1:
            raise node.error(key, f"must be a table with one of {', '.join(DURATION_UNITS)}")
        ((unit, amount),) = value.items()
        if unit not in DURATION_UNITS:
            raise node.error(f"{key}.{unit}", f"unknown unit (use {', '.join(DURATION_UNITS)})")
        where = f"{key}.{unit}"
        if isinstance(amount, list):
            if not ranges or len(amount) != 2:
                raise node.error(where, "a range is [from, to] and only SLA targets take one")
            lower, upper = (node.to_decimal(where, a) for a in amount)
            if not Decimal(0) < lower < upper:
                raise node.error(where, "a range needs 0 < from < to")
            if upper > MAX_DURATION:
                raise node.error(where, f"must be at most {MAX_DURATION}")
            _at_least_a_second(node, where, Duration(lower, unit))
            return Duration(upper, unit), Duration(lower, unit)
        amount = node.to_decimal(where, amount)
        if amount <= 0:
            raise node.error(where, "must be more than 0")
        if amount > MAX_DURATION:
            raise node.error(where, f"must be at most {MAX_DURATION}")
        _at_least_a_second(node, where, Duration(amount, unit))
        return Duration(amount, unit), None

    def plan(self, code: str, node: _Node, context: Mapping[str, Mapping]) -> Plan:
        pricing = node.string("pricing", choices=PLAN_PRICING)
        calendar = node.string("calendar", None)
        if calendar is not None and calendar not in context["calendars"]:
            raise node.error("calendar", f"unknown calendar '{calendar}'")

        terms: dict[Term, TermOffer] = {}
        terms_node = node.child("terms", required=pricing not in _TERMLESS)
        if terms_node is not None:
            if pricing in _TERMLESS:
                raise node.error("terms", f"a {pricing} plan takes no term")
            for key, value in terms_node.data.items():
                terms[terms_node.term(key)] = self.term_offer(terms_node, key, value, pricing)
            if not terms:
                raise node.error("terms", "a plan needs at least one term")
            if all(offer.renewal_only for offer in terms.values()):
                raise node.error("terms", "a plan needs a term open to new clients")

        loyalty = {}
        loyalty_node = node.child("loyalty", required=False)
        for key, value in (loyalty_node.data if loyalty_node else {}).items():
            term = loyalty_node.term(key)
            if term not in terms:
                raise loyalty_node.error(key, "the plan does not offer this term")
            loyalty[term] = self.money(loyalty_node, key, value)
        if loyalty and pricing != "term-table":
            raise node.error("loyalty", "loyalty prices need a term-table plan")

        unit_prices: dict[str, Decimal] = {}
        if pricing in ("per-unit", "per-request"):
            prices = node.child("unit_prices")
            for unit, value in prices.data.items():
                if unit not in context["units"]:
                    raise prices.error(unit, f"unknown unit '{unit}'")
                unit_prices[unit] = self.money(prices, unit, value)
            if not unit_prices:
                raise node.error("unit_prices", "needs at least one unit")

        billing: dict[str, Decimal] = {}
        billing_node = node.child("billing", required=False)
        if billing_node is not None:
            if pricing != "per-unit":
                raise node.error("billing", "billing schedules need a per-unit plan")
            for schedule, value in billing_node.data.items():
                if schedule not in BILLING_MONTHS:
                    raise billing_node.error(
                        schedule, f"unknown billing schedule (use {', '.join(BILLING_MONTHS)})"
                    )
                percent = billing_node.to_decimal(schedule, value)
                if percent >= 100:
                    raise billing_node.error(schedule, "a discount must be under 100%")
                for term in terms:
                    if term.months is None or term.months % BILLING_MONTHS[schedule]:
                        raise billing_node.error(
                            schedule, f"term {term} is not a whole number of installments"
                        )
                billing[schedule] = percent
        default_billing = node.string("default_billing", None, choices=tuple(billing) or None)
        if billing and default_billing is None:
            default_billing = next(iter(billing))

        percent = None
        if pricing == "percent-of-licence":
            percent = node.decimal("percent")
            if not Decimal(0) < percent <= 100:
                raise node.error("percent", "must be more than 0 and at most 100")

        eligibility = None
        eligibility_node = node.child("eligibility", required=False)
        if eligibility_node is not None:
            unit = eligibility_node.string("unit")
            if unit not in context["units"]:
                raise eligibility_node.error("unit", f"unknown unit '{unit}'")
            eligibility = Eligibility(unit, eligibility_node.integer("minimum", minimum=1))
        quote_questions = self.quote_questions(node, pricing, eligibility, context["units"])

        features = {}
        features_node = node.child("features", required=False)
        for key, value in (features_node.data if features_node else {}).items():
            feature = context["features"].get(key)
            if feature is None:
                raise features_node.error(key, f"unknown feature '{key}'")
            features[key] = self.feature_value(features_node, key, value, feature)

        sla = {}
        sla_node = node.child("sla", required=False)
        for key, value in (sla_node.data if sla_node else {}).items():
            if key not in context["sla_targets"]:
                raise sla_node.error(key, f"unknown SLA target '{key}'")
            upper, lower = self.duration(sla_node, key, value, ranges=True)
            if upper.working and calendar is None:
                raise sla_node.error(key, "working time needs the plan's calendar")
            if upper.unit == "working_days":
                working_day = context["calendars"][calendar].working_day
                _at_least_a_second(sla_node, f"{key}.{upper.unit}", lower or upper, working_day)
            sla[key] = PlanSla(key, upper, lower)

        default_term = self.plan_term(node, terms) if node.has("default_term") else None

        return Plan(
            code=code,
            name=node.text("name"),
            description=node.text("description", required=False),
            pricing=pricing,
            calendar=calendar,
            terms=_frozen(terms),
            features=_frozen(features),
            sla=_frozen(sla),
            loyalty=_frozen(loyalty),
            unit_prices=_frozen(unit_prices),
            billing=_frozen(billing),
            default_billing=default_billing,
            percent=percent,
            eligibility=eligibility,
            default_term=default_term,
            quote_questions=quote_questions,
            archived=node.boolean("archived", False),
        )

    def quote_questions(
        self,
        node: _Node,
        pricing: str,
        eligibility: Eligibility | None,
        units: Mapping[str, Unit],
    ) -> Mapping[str, LocalizedText]:
        """``[plans.X.quote] ask = { register = "Number of cash registers" }``: the counts a
        quote request asks for; the eligibility unit is asked first, in any case."""
        quote_node = node.child("quote", required=False)
        if quote_node is not None and pricing != "on-request":
            raise node.error("quote", "only a plan priced on request takes quote requests")
        ask = quote_node.child("ask", required=False) if quote_node else None
        questions = {}
        for unit, question in (ask.data if ask else {}).items():
            if unit not in units:
                raise ask.error(unit, f"unknown unit '{unit}'")
            questions[unit] = ask.to_text(unit, question)
        if eligibility is not None and eligibility.unit not in questions:
            questions = {eligibility.unit: units[eligibility.unit].name, **questions}
        elif eligibility is not None:
            questions = {eligibility.unit: questions.pop(eligibility.unit), **questions}
        return _frozen(questions)

    def counted(self, node: _Node, key: str) -> Mapping[str, Mapping[str, str]]:
        """A count's words by locale and plural form: every form the language has."""
        value = node.raw(key, None)
        if value is None:
            return _frozen({})
        if not isinstance(value, Mapping) or not value:
            raise node.error(key, "must be a table of plural forms by locale")
        forms = {}
        for locale, words in value.items():
            if locale not in LOCALES:
                raise node.error(f"{key}.{locale}", f"unknown locale (use {', '.join(LOCALES)})")
            needed = PLURAL_CATEGORIES[locale]
            if (
                not isinstance(words, Mapping)
                or set(words) != set(needed)
                or not all(isinstance(word, str) and word.strip() for word in words.values())
            ):
                raise node.error(
                    f"{key}.{locale}", f"needs a word for each of the forms {', '.join(needed)}"
                )
            forms[locale] = _frozen(dict(words))
        return _frozen(forms)

    def plan_term(self, node: _Node, terms: Mapping[Term, TermOffer]) -> Term:
        value = node.string("default_term")
        try:
            term = Term.parse(value)
        except PlanError as exc:
            raise node.error("default_term", _reason(exc, value)) from None
        if not any(t == term or (t.kind == term.kind == "budget") for t in terms):
            raise node.error("default_term", f"the plan does not offer {value}")
        return term

    def term_offer(self, node: _Node, key: str, value: Any, pricing: str) -> TermOffer:
        term = node.term(key)
        if isinstance(value, Mapping):
            offer = _Node(value, node.at(key), self.source)
            price = self.money(offer, "price", value["price"]) if "price" in value else None
            renewal_only = offer.boolean("renewal_only")
            discount = offer.decimal("discount_percent", Decimal(0))
            if discount >= 100:
                raise offer.error("discount_percent", "a discount must be under 100%")
        else:
            price, renewal_only, discount = self.money(node, key, value), False, Decimal(0)
        if pricing == "term-table" and price is None:
            raise node.error(key, "a term-table plan needs a price for each term")
        if pricing != "term-table" and price is not None:
            raise node.error(key, f"a {pricing} plan takes no price per term")
        if discount and not renewal_only:
            raise node.error(key, "a term discount applies to renewal-only terms")
        return TermOffer(term, price, renewal_only, discount)

    def feature_value(self, node: _Node, key: str, value: Any, feature: Feature) -> FeatureValue:
        note = None
        if isinstance(value, Mapping) and "value" in value:
            expanded = _Node(value, node.at(key), self.source)
            note = expanded.text("note", required=False)
            node, key, value = expanded, "value", value["value"]
        kind = feature.kind
        if kind == "yes-no":
            if not isinstance(value, bool):
                raise node.error(key, "a yes-no feature takes true or false")
            return FeatureValue(kind, flag=value, note=note)
        if kind == "quantity":
            if value == "unlimited":
                return FeatureValue(kind, unlimited=True, note=note)
            return FeatureValue(kind, quantity=node.to_decimal(key, value), note=note)
        if kind == "duration":
            upper, _ = self.duration(node, key, value)
            return FeatureValue(kind, duration=upper, note=note)
        return FeatureValue(kind, text=node.to_text(key, value), note=note)

    def service(self, code: str, node: _Node) -> Service:
        pricing = node.string("pricing", choices=SERVICE_PRICING)
        kind = node.string("kind", choices=SERVICE_KINDS)
        bundles = []
        bundle_list = node.raw("bundles", [])
        if not isinstance(bundle_list, list):
            raise node.error("bundles", "must be a list of {hours, price} tables")
        for index, bundle in enumerate(bundle_list):
            if not isinstance(bundle, Mapping):
                raise node.error(f"bundles.{index}", "must be a table")
            bundle_node = _Node(bundle, node.at(f"bundles.{index}"), self.source)
            bundles.append(
                Bundle(
                    bundle_node.integer("hours", minimum=2),
                    self.money(bundle_node, "price", bundle_node.raw("price")),
                )
            )
        fee_node = node.child("one_time_fee", required=False)
        fee = None
        if fee_node is not None:
            fee = Fee(
                fee_node.code(fee_node.string("code")),
                fee_node.text("name"),
                self.money(fee_node, "amount", fee_node.raw("amount")),
            )
        hour_step = node.decimal("hour_step", None)
        if pricing == "hourly":
            if bundles and hour_step != 1:
                raise node.error("hour_step", "bundles are bought in whole hours: set 1")
            if hour_step is not None and hour_step <= 0:
                raise node.error("hour_step", "must be more than 0")
        elif bundles or fee or hour_step is not None or node.has("minimum_hours"):
            raise node.error("pricing", "only hourly services take hours, bundles or a fee")
        return Service(
            code=code,
            name=node.text("name"),
            description=node.text("description", required=False),
            pricing=pricing,
            kind=kind,
            price=self.money(node, "price", node.raw("price")),
            minimum_hours=node.decimal("minimum_hours", Decimal(0)),
            hour_step=hour_step,
            bundles=tuple(sorted(bundles, key=lambda b: b.hours)),
            one_time_fee=fee,
        )


def _possible_phone(phone: str, country: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(phone, country))
    except phonenumbers.NumberParseException:
        return False


def _digits_only(value: str, count: int) -> str:
    compact = value.replace(" ", "")
    if not (compact.isdigit() and len(compact) == count):
        raise ValueError(f"must be {count} digits")
    return compact


def _at_least_a_second(
    node: _Node, where: str, duration: Duration, working_day: timedelta | None = None
) -> None:
    """Refuse a span under one second, which no clock can count: ``{minutes = 0.001}``.
    Working days are checked once their calendar's working day is known."""
    if duration.unit == "working_days" and working_day is None:
        return
    if duration.timedelta(working_day) < timedelta(seconds=1):
        raise node.error(where, "is under one second")


def _frozen(mapping: dict) -> Mapping:
    """A read-only view: a catalog is shared by every request and must never change."""
    return MappingProxyType(mapping)
