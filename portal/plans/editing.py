"""Editing a catalog's TOML text: its price tables as grids, one value at a time, a bulk
change computed before it is applied, sections replaced whole, and the difference between
two texts, value by value.

Edits go through tomlkit, which keeps the text's comments, order and layout, so a draft
edited in the admin area still reads like the bundled files and exports as one. Pure: the
callers validate the edited text with :func:`portal.plans.parse_catalog`, the same
validation, with the same located messages, as a catalog file.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import tomlkit
import tomlkit.exceptions

from portal.plans.loading import MAX_NUMBER
from portal.plans.terms import Term

# The plan tables edited as grids (rows by columns of plans): what each row is priced by.
GRID_TABLES = ("terms", "loyalty", "unit_prices", "billing")
# The top-level sections edited as TOML, each replaced whole.
SECTIONS = (
    "catalog",
    "provider",
    "calendars",
    "callback",
    "units",
    "feature_groups",
    "features",
    "sla_targets",
    "work",
    "visits",
    "services",
    "labels",
    "plans",
)
MAX_DECIMALS = 2
MIN_STEP = Decimal("0.01")


class EditError(ValueError):
    """An edit that cannot be made: ``code`` (stable), ``path`` it is about, ``params``."""

    def __init__(self, code: str, path: str = "", **params: Any):
        self.code = code
        self.path = path
        self.params = params
        super().__init__(f"{code} at {path}" if path else code)


@dataclass(frozen=True)
class Change:
    """One value at a dotted ``path`` (``plans.optima.terms.7m``): before and after,
    as TOML reads them (None: absent)."""

    path: str
    before: Any
    after: Any

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


@dataclass(frozen=True)
class Grid:
    """A table of prices as a grid: ``rows`` (terms, units, billings, services) by ``plans``
    (columns: plans, or ``price`` for services); ``cells`` by (row, column): a number,
    another value shown as is, or None where there is none. ``table`` names the grid:
    ``terms``, ``loyalty``, ``unit_prices``, ``billing`` (a plan's table of that name),
    ``discounts`` (multi-year terms' ``discount_percent``), ``percent`` (of the licence
    value), ``services`` (their ``price``)."""

    table: str
    plans: tuple[str, ...]
    rows: tuple[str, ...]
    cells: Mapping[tuple[str, str], Any]

    def path(self, row: str, plan: str) -> str:
        if self.table == "discounts":
            return f"plans.{plan}.terms.{row}.discount_percent"
        if self.table == "percent":
            return f"plans.{plan}.percent"
        if self.table == "services":
            return f"services.{row}.price"
        return f"plans.{plan}.{self.table}.{row}"


def cell_of(path: str) -> tuple[str, str, str] | None:
    """The (grid, row, column) a dotted path is a cell of, or None: the inverse of
    :meth:`Grid.path`."""
    parts = path.split(".")
    if len(parts) == 4 and parts[0] == "plans" and parts[2] in GRID_TABLES:
        return parts[2], parts[3], parts[1]
    if (
        len(parts) == 5
        and parts[0] == "plans"
        and parts[2] == "terms"
        and parts[4] == "discount_percent"
    ):
        return "discounts", parts[3], parts[1]
    if len(parts) == 3 and parts[0] == "plans" and parts[2] == "percent":
        return "percent", "percent", parts[1]
    if len(parts) == 3 and parts[0] == "services" and parts[2] == "price":
        return "services", parts[1], "price"
    return None


# --- reading ----------------------------------------------------------------------------


def read(text: str) -> dict:
    """The TOML data of ``text`` (raises :class:`EditError` ``not_toml``)."""
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        raise EditError("not_toml", reason=str(exc)) from None


def flatten(data: Mapping, prefix: str = "") -> dict[str, Any]:
    """Every value of ``data`` by its dotted path; lists are values, tables are walked."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def diff(before_text: str, after_text: str) -> list[Change]:
    """Every value that differs between two catalog texts, in the order the later text
    has them (values only in the earlier one last)."""
    before, after = flatten(read(before_text)), flatten(read(after_text))
    changes = [
        Change(path, before.get(path), value)
        for path, value in after.items()
        if path not in before or not _same(before[path], value)
    ]
    changes.extend(Change(path, value, None) for path, value in before.items() if path not in after)
    old_order, new_order = _order(before_text), _order(after_text)
    kept = [code for code in new_order if code in old_order]
    if kept != [code for code in old_order if code in new_order]:
        changes.insert(0, Change("plans", ", ".join(old_order), ", ".join(new_order)))
    return changes


def _order(text: str) -> list[str]:
    return list(plan_codes(read(text)))


def _same(a: Any, b: Any) -> bool:
    # 1500 and 1500.00 are the same price; True and 1 are not the same value.
    if _is_number(a) and _is_number(b):
        return Decimal(str(a)) == Decimal(str(b))
    return type(a) is type(b) and a == b


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def value_at(data: Mapping, path: str) -> Any:
    """The value at a dotted ``path`` of ``data``, or None."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def grids(data: Mapping) -> list[Grid]:
    """The catalog's tables of prices, each as a grid: terms sorted by length (months, then
    the budget year, then years), other rows in the order the plans name them."""
    plans = data.get("plans", {})
    found = []
    for table in GRID_TABLES:
        rows: list[str] = []
        cells: dict[tuple[str, str], Any] = {}
        holders = []
        for code, plan in plans.items():
            values = plan.get(table) if isinstance(plan, Mapping) else None
            if not isinstance(values, Mapping):
                continue
            holders.append(code)
            for row, value in values.items():
                if row not in rows:
                    rows.append(row)
                cells[(row, code)] = value
        if not any(_is_number(value) for value in cells.values()):
            continue
        if table in ("terms", "loyalty"):
            rows.sort(key=_term_order)
        found.append(Grid(table, tuple(holders), tuple(rows), cells))
    found.extend(_special_grids(data))
    return found


def _special_grids(data: Mapping) -> list[Grid]:
    """The percent of the licence value, the multi-year discounts and the services' prices."""
    plans = {c: p for c, p in data.get("plans", {}).items() if isinstance(p, Mapping)}
    found = []
    percent = {
        ("percent", c): p["percent"] for c, p in plans.items() if _is_number(p.get("percent"))
    }
    if percent:
        found.append(Grid("percent", tuple(c for _r, c in percent), ("percent",), percent))
    discounts: dict[tuple[str, str], Any] = {}
    for code, plan in plans.items():
        for term, offer in (plan.get("terms") or {}).items():
            if isinstance(offer, Mapping) and _is_number(offer.get("discount_percent")):
                discounts[(term, code)] = offer["discount_percent"]
    if discounts:
        rows = sorted({row for row, _c in discounts}, key=_term_order)
        holders = tuple(c for c in plans if any(col == c for _r, col in discounts))
        found.append(Grid("discounts", holders, tuple(rows), discounts))
    services = {
        (code, "price"): service["price"]
        for code, service in data.get("services", {}).items()
        if isinstance(service, Mapping) and _is_number(service.get("price"))
    }
    if services:
        found.append(Grid("services", ("price",), tuple(r for r, _c in services), services))
    return found


@dataclass(frozen=True)
class FeatureCell:
    """One plan's value of a feature as the matrix edits it: the ``path`` a save writes
    (``….value`` where the value carries a note), and the ``value`` there."""

    path: str
    value: Any


EDITABLE_KINDS = ("yes-no", "quantity")


def feature_matrix(data: Mapping) -> tuple[tuple[str, str], tuple[str, ...], dict]:
    """The catalog's features by plans: ((code, kind), …) in the file's order, the plans,
    and each (feature, plan) cell as a :class:`FeatureCell`."""
    features = tuple(
        (code, feature.get("kind", "text"))
        for code, feature in data.get("features", {}).items()
        if isinstance(feature, Mapping)
    )
    plans = plan_codes(data)
    cells = {}
    for code, _kind in features:
        for plan in plans:
            path = f"plans.{plan}.features.{code}"
            value = value_at(data, path)
            if isinstance(value, Mapping) and "value" in value:
                path, value = f"{path}.value", value["value"]
            cells[(code, plan)] = FeatureCell(path, value)
    return features, plans, cells


UNLIMITED = "unlimited"
_UNLIMITED_TYPED = frozenset({"unlimited", "∞", "inf"})


def parse_feature(kind: str, typed: str) -> Any:
    """A feature's value as chosen in the matrix: yes-no ``true``/``false``; a quantity as a
    number or ``∞`` (unlimited); empty is no value. Raises :class:`EditError`."""
    typed = typed.strip()
    if not typed:
        return None
    if kind == "yes-no":
        if typed not in ("true", "false"):
            raise EditError("yes_or_no")
        return typed == "true"
    if kind == "quantity":
        if typed.lower() in _UNLIMITED_TYPED:
            return UNLIMITED
        return parse_amount(typed)
    raise EditError("not_editable")


# --- service levels ---------------------------------------------------------------------

DURATION_UNITS = (
    "minutes",
    "hours",
    "days",
    "working_minutes",
    "working_hours",
    "working_days",
)


def sla_matrix(data: Mapping) -> tuple[tuple[str, ...], tuple[str, ...], dict]:
    """The catalog's SLA targets by plans: the targets in the file's order, the plans, and
    each (target, plan) cell's value (``{working_hours = 4}``, or None)."""
    targets = tuple(data.get("sla_targets", {}))
    plans = plan_codes(data)
    cells = {
        (target, plan): value_at(data, f"plans.{plan}.sla.{target}")
        for target in targets
        for plan in plans
    }
    return targets, plans, cells


def sla_parts(value: Any) -> tuple[str, str]:
    """A target's cell as the matrix shows it: (amount, unit); a range as ``1.5-2.5``."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return "", "working_hours"
    ((unit, amount),) = value.items()
    if isinstance(amount, list):
        return "-".join(shown(part) for part in amount), unit
    return shown(amount), unit


def parse_sla(typed: str, unit: str) -> dict | None:
    """A target typed in the matrix (``4``, ``1.5-2.5`` for a range) in ``unit``; empty is
    no target for the plan. Raises :class:`EditError` (``unknown_unit``, ``not_a_number``)."""
    if unit not in DURATION_UNITS:
        raise EditError("unknown_unit")
    cleaned = typed.strip().replace("–", "-").replace("—", "-")
    if not cleaned:
        return None
    if "-" in cleaned.lstrip("-"):
        low, high = cleaned.split("-", 1)
        return {unit: [parse_amount(low) or Decimal(0), parse_amount(high) or Decimal(0)]}
    return {unit: parse_amount(cleaned)}


# --- calendars ----------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def exceptions_text(value: Any) -> str:
    """A calendar's exceptions as the form shows them: a line a day, ``2026-12-31 closed`` or
    ``2026-12-24 10:00-14:00``."""
    if not isinstance(value, Mapping):
        return ""
    return "\n".join(f"{day} {hours}" for day, hours in value.items())


def parse_exceptions(typed: str) -> dict[str, str] | None:
    """The exceptions typed a line a day (``YYYY-MM-DD closed`` or ``YYYY-MM-DD 10:00-14:00``);
    empty is none. The hours are checked as a catalog file's are. Raises :class:`EditError`
    ``bad_exception`` with the ``line`` at fault."""
    found: dict[str, str] = {}
    for number, line in enumerate(typed.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day, _, hours = line.partition(" ")
        if len(day) != 10 or not hours.strip() or day in found:
            raise EditError("bad_exception", line=number)
        found[day] = hours.strip()
    return found or None


def feature_shown(kind: str, value: Any) -> str:
    """A feature's value as the matrix shows it and a save sends back as it was."""
    if kind == "yes-no":
        return "" if value is None else ("true" if value is True else "false")
    if kind == "quantity" and value == UNLIMITED:
        return "∞"
    return shown(value)


def _term_order(code: str) -> tuple:
    if code == "budget":
        return (1, 0)
    try:
        term = Term.parse(code)
    except ValueError:
        return (3, 0)
    return (2, term.count) if term.kind == "years" else (0, term.months)


def shown(value: Any) -> str:
    """A value as the grid's cell shows it and a save sends back as it was: numbers as
    written (``6900.00`` as ``6900``), absent as empty, anything else as TOML."""
    if value is None:
        return ""
    if _is_number(value):
        number = Decimal(str(value))
        return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}"
    if isinstance(value, str):
        return value
    return tomlkit.item(_toml_value(value)).as_string()


# --- a cell's value ---------------------------------------------------------------------


def parse_amount(typed: str) -> Decimal | None:
    """A price or percentage as typed in a cell (``44 000``, ``1 500,50``); empty is None
    (the plan has no value there). Raises :class:`EditError` ``not_a_number``,
    ``negative``, ``too_many_decimals`` or ``too_large``."""
    cleaned = typed.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    cleaned = cleaned.replace("٫", ".").replace(",", ".")
    cleaned = cleaned.translate(_DIGITS)
    if not cleaned:
        return None
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise EditError("not_a_number", value=typed) from None
    if not number.is_finite():
        raise EditError("not_a_number", value=typed)
    if number < 0:
        raise EditError("negative")
    if number > MAX_NUMBER:
        raise EditError("too_large")
    if number != number.quantize(Decimal(1).scaleb(-MAX_DECIMALS), rounding=ROUND_HALF_UP):
        raise EditError("too_many_decimals", places=MAX_DECIMALS)
    return number


# Persian and Arabic-Indic digits, as a Persian keyboard types them.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def _toml_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral() else float(number)


# --- editing ----------------------------------------------------------------------------


def set_values(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each dotted path set to its value (a number, a text, true or false, a
    table of texts by locale; None removes it), the rest of the text as it was; missing
    tables on the way are made."""
    document = _document(text)
    for path, number in values.items():
        *parents, key = path.split(".")
        node: Any = document
        for part in parents:
            if part not in node:
                if number is None:
                    break
                node[part] = tomlkit.table()
            node = node[part]
            if not isinstance(node, Mapping):
                raise EditError("not_a_table", path=path)
        else:
            if number is None:
                if key in node:
                    del node[key]
            else:
                node[key] = _toml_value(number)
    return tomlkit.dumps(document)


def _toml_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _toml_number(value)
    if isinstance(value, list | tuple):
        return [_toml_value(item) for item in value]
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        table.update({key: _toml_value(item) for key, item in value.items()})
        return table
    return value


# --- plans ------------------------------------------------------------------------------


def plan_codes(data: Mapping) -> tuple[str, ...]:
    """The catalog's plans in its order."""
    plans = data.get("plans", {})
    return tuple(plans) if isinstance(plans, Mapping) else ()


def reorder_plans(text: str, order: Iterable[str]) -> str:
    """``text`` with its plans in ``order`` (every plan, each once), each as it was."""
    document = _document(text)
    plans = document.get("plans")
    order = list(order)
    if not isinstance(plans, Mapping) or sorted(order) != sorted(plans):
        raise EditError("plans_changed")
    tables = {code: plans[code] for code in order}
    try:
        for code in list(plans):
            del plans[code]
        for code in order:
            plans[code] = tables[code]
    except (IndexError, KeyError, tomlkit.exceptions.TOMLKitError):
        # Plans whose tables are spread among other sections of the file: tomlkit cannot
        # move them; the plans' part of the file can.
        raise EditError("cannot_move") from None
    return tomlkit.dumps(document)


def copy_plan(text: str, source: str, code: str, name: Mapping[str, str]) -> str:
    """``text`` with a new plan ``code`` named ``name`` (texts by locale), a copy of plan
    ``source`` (its prices, features and service levels), after the others."""
    document = _document(text)
    plans = document.get("plans")
    if not isinstance(plans, Mapping) or source not in plans:
        raise EditError("unknown_plan", path=f"plans.{source}")
    if code in plans:
        raise EditError("plan_exists", path=f"plans.{code}", plan=code)
    plan = copy.deepcopy(plans[source])
    plan["name"] = _toml_value(dict(name))
    plan.pop("archived", None)
    plans[code] = plan
    return tomlkit.dumps(document)


def section_text(text: str, section: str) -> str:
    """The TOML of one top-level section of ``text`` (its own heading included), or ""."""
    document = _document(text)
    if section not in document:
        return ""
    return tomlkit.dumps({section: document[section]}).strip() + "\n"


def replace_section(text: str, section: str, typed: str) -> str:
    """``text`` with ``section`` replaced by the TOML ``typed`` (which holds that section
    only; empty removes it). Raises :class:`EditError` ``not_toml`` or ``other_section``."""
    document = _document(text)
    replacement = _document(typed)
    others = [key for key in replacement if key != section]
    if others:
        raise EditError("other_section", section=section, found=", ".join(others))
    if section in replacement:
        document[section] = replacement[section]
    elif section in document:
        del document[section]
    return tomlkit.dumps(document)


def _document(text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except (tomlkit.exceptions.TOMLKitError, RecursionError, ValueError) as exc:
        raise EditError("not_toml", reason=str(exc)) from None


# --- bulk changes -----------------------------------------------------------------------


def bulk_change(
    data: Mapping,
    plans: Iterable[str],
    tables: Iterable[str],
    percent: Decimal,
    step: Decimal,
) -> list[Change]:
    """Every price of ``plans``' ``tables`` (``terms``, ``loyalty``) changed by ``percent``
    and rounded half-up to a multiple of ``step`` (10 UAH; 0.01 for kopecks): the cells a
    bulk change would write, unchanged cells left out."""
    if not MIN_STEP <= step <= MAX_NUMBER or step != step.quantize(MIN_STEP):
        raise EditError("bad_step")
    factor = 1 + percent / 100
    changes = []
    for plan in plans:
        for table in tables:
            values = value_at(data, f"plans.{plan}.{table}")
            if not isinstance(values, Mapping):
                continue
            for row, value in values.items():
                if not _is_number(value):
                    continue
                before = Decimal(str(value))
                after = (before * factor / step).quantize(Decimal(1), ROUND_HALF_UP) * step
                after = max(after, Decimal(0))
                if after != before:
                    changes.append(Change(f"plans.{plan}.{table}.{row}", value, after))
    return changes
