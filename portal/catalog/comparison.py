"""The comparison of a catalog's plans, side by side, priced by the engine for the client's choice.

The client's choice (term, billing, quantities, licence value, renewal) arrives
as the query string of the comparison page. Each field is checked once with the
engine's own parsers; then every plan is quoted for the choice. What a plan
does not offer (a term, a renewal-only discount) is said in its column; what
the client typed wrong is said beside the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from portal.formatting import gregorian_date_text
from portal.plans import (
    Catalog,
    Plan,
    PlanError,
    Quote,
    Savings,
    Term,
    parse_quote_request,
    quote,
    savings,
)
from portal.plans.catalog import Feature, FeatureValue, PlanSla
from portal.plans.requests import parse_date, parse_money, parse_whole
from portal.plans.subscriptions import (
    Period,
    check_renewal_start,
    check_start,
    first_renewal_day,
    renewal_after,
    renewal_request,
)

# The fields of the comparison form, in the order they are shown and checked.
CHOICE_FIELDS = ("term", "billing", "licence_value", "renewal", "previous_end", "start")


@dataclass(frozen=True)
class TermOption:
    term: Term
    renewal_only: bool


@dataclass(frozen=True)
class Choice:
    """The client's choice as typed (``values``) and as understood (``term``, ``errors``...)."""

    values: dict[str, str]
    term: Term | None
    billing: str | None
    quantities: dict[str, int]
    licence_value: Decimal | None
    renewing: bool
    previous_end: date | None
    start: date | None
    errors: dict[str, PlanError] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    # A signed-in client's latest period in the catalog: every plan is priced as what
    # follows it, as an order would be, and the renewal and start fields are not asked.
    current: Period | None = None

    def earliest_start(self, today: date) -> date | None:
        """The first day a new period can start after the period being renewed, if any."""
        return _earliest_start(self.current, self.previous_end if self.renews else None, today)

    @property
    def renews(self) -> bool:
        """Renewal ticked with its period's end: each plan priced as following that period."""
        return self.renewing and self.previous_end is not None and self.current is None

    @property
    def awaits_previous_end(self) -> bool:
        """Renewal ticked, its period's end not given yet."""
        return self.renewing and self.previous_end is None and "previous_end" not in self.errors

    def key(self) -> tuple:
        """Everything the comparison depends on (what was typed, the period), hashable."""
        return (*sorted(self.values.items()), self.current)

    def query(self) -> dict[str, str]:
        """The choice as query parameters, to share or to carry to another page.

        Empty fields and quantities left at the catalog's default are left out,
        so a shared address says only what the client chose.
        """
        return {
            name: value
            for name, value in self.values.items()
            if value and self.defaults.get(name) != value
        }


@dataclass(frozen=True)
class PlanColumn:
    plan: Plan
    quote: Quote | None
    savings: Savings | None
    note: PlanError | None  # why the plan has no price for this choice


@dataclass(frozen=True)
class FeatureRow:
    feature: Feature
    values: tuple[FeatureValue | None, ...]


@dataclass(frozen=True)
class SlaRow:
    target: str
    promises: tuple[PlanSla | None, ...]


@dataclass(frozen=True)
class Comparison:
    catalog: Catalog
    choice: Choice
    terms: tuple[TermOption, ...]
    billing_codes: tuple[str, ...]
    units: tuple[str, ...]
    takes_licence_value: bool
    offers_renewal_terms: bool
    columns: tuple[PlanColumn, ...]
    groups: tuple[tuple[str, tuple[FeatureRow, ...]], ...]
    sla: tuple[SlaRow, ...]
    # The plan a phone shows of them all (one at a time): the one asked for, else the
    # client's current plan, else the middle one (the tier most clients take).
    shown_plan: str | None = None
    shown_asked: bool = False  # the client switched to it (kept in the address)
    earliest_start: date | None = None  # the first day a period may start: today or later

    @property
    def has_terms(self) -> bool:
        return bool(self.terms)

    @property
    def fields(self) -> tuple[str, ...]:
        """Names of the fields the form shows for this catalog, each with its error slot."""
        asks_dates = self.choice.current is None
        shown = {
            "term": self.has_terms,
            "billing": bool(self.billing_codes),
            "licence_value": self.takes_licence_value,
            "previous_end": self.offers_renewal_terms and asks_dates,
            "start": self.has_terms and asks_dates,
        }
        return tuple(name for name in CHOICE_FIELDS if shown.get(name)) + tuple(
            f"qty.{unit}" for unit in self.units
        )

    @property
    def unplaced_errors(self) -> tuple[PlanError, ...]:
        """Mistakes in parameters the form does not show (a hand-edited address)."""
        return tuple(e for name, e in self.choice.errors.items() if name not in self.fields)


def term_options(
    catalog: Catalog, today: date, earliest: date | None = None
) -> tuple[TermOption, ...]:
    """Every term some plan with a published price offers: months, this and next
    budget year, years.

    ``earliest`` is the first day a new period can start (after a period being
    renewed): a budget year that ends before it is not offered.
    """
    first = max(today, earliest or today)
    options: dict[Term, bool] = {}
    # A plan priced on request has no price a term would change: it offers no choice.
    for plan in (p for p in catalog.offered.values() if p.pricing != "on-request"):
        for term, offer in plan.terms.items():
            if term.kind == "budget":
                # The year a period can start in, and the next.
                for year in range(first.year, first.year + 2):
                    options.setdefault(Term("budget", year), False)
            else:
                renewal_only = options.get(term, True) and offer.renewal_only
                options[term] = renewal_only
    return tuple(
        TermOption(term, renewal_only)
        for term, renewal_only in sorted(options.items(), key=lambda item: term_order(item[0]))
    )


def term_order(term: Term) -> tuple[int, int]:
    """Months first, then budget years, then years."""
    return ({"months": 0, "budget": 1, "years": 2}[term.kind], term.count)


def _typed_date(typed: str, name: str) -> str:
    """A date field as the engine's parser reads it (Persian digits and Jalali dates
    turned Gregorian); raises ``invalid_date`` for a Jalali day that does not exist."""
    text = gregorian_date_text(typed)
    if text is None:
        raise PlanError("invalid_date", "'{value}' is not a date (YYYY-MM-DD)", name, value=typed)
    return text


def _earliest_start(current: Period | None, declared_end: date | None, today: date) -> date | None:
    """The first day a period can start after the client's ``current`` one, or after the
    one they say ends on ``declared_end``; None when they renew nothing."""
    end = current.end if current is not None else declared_end
    return first_renewal_day(end, today) if end is not None else None


def default_term(catalog: Catalog) -> Term | None:
    """The term the comparison starts on; none where no plan has a price a term changes."""
    for plan in catalog.offered.values():
        if plan.pricing == "on-request":
            continue
        if plan.default_term is not None:
            return plan.default_term
        if plan.terms:
            return next(iter(plan.terms))
    return None


def read_choice(
    catalog: Catalog, args: dict[str, str], today: date, current: Period | None = None
) -> Choice:
    """Check each field of the comparison form; the defaults fill what was not given.

    With the ``current`` period of a signed-in client, the renewal and the start
    are the portal's to decide (the day after that period), so they are not read.
    """
    errors: dict[str, PlanError] = {}
    values = {name: (args.get(name) or "").strip() for name in CHOICE_FIELDS}
    if current is not None:
        values.update(renewal="", previous_end="", start="")

    term = default_term(catalog)
    if values["term"]:
        try:
            term = Term.parse(values["term"])
        except PlanError as error:
            errors["term"] = error
    elif term is not None:
        values["term"] = term.code

    # A catalog without billing schedules or licence-priced plans has no such field to
    # mark: a value for one in the address is left aside, as an unknown parameter is.
    codes = _billing_codes(catalog)
    if not codes:
        values["billing"] = ""
    if not any(plan.pricing == "percent-of-licence" for plan in catalog.plans.values()):
        values["licence_value"] = ""
    billing = values["billing"] or None
    if billing is not None and billing not in codes:
        errors["billing"] = PlanError(
            "billing_not_offered",
            "Billing '{value}' is not offered: choose one from the list",
            "billing",
            value=billing,
        )
        billing = None

    quantities = {}
    defaults = {}
    for unit in _priced_units(catalog):
        name = f"qty.{unit}"
        raw = (args.get(name) or "").strip()
        defaults[name] = str(catalog.units[unit].default_quantity)
        if not raw:
            quantities[unit] = catalog.units[unit].default_quantity
            values[name] = defaults[name]
            continue
        values[name] = raw
        try:
            quantities[unit] = parse_whole(raw, name, minimum=0)
        except PlanError as error:
            errors[name] = error

    licence_value = None
    if values["licence_value"]:
        try:
            licence_value = parse_money(values["licence_value"], "licence_value", catalog.currency)
        except PlanError as error:
            errors["licence_value"] = error

    dates = {}
    for name in ("previous_end", "start"):
        if values[name]:
            try:
                dates[name] = parse_date(_typed_date(values[name], name), name)
            except PlanError as error:
                errors[name] = error
    renewing = values["renewal"] in ("1", "on", "true", "yes")
    if "start" in dates:
        try:
            check_start(dates["start"], today)
            if renewing and "previous_end" in dates:
                check_renewal_start(dates["start"], dates["previous_end"])
        except PlanError as error:
            errors["start"] = error

    # Ticked before its date is given, the renewal waits for it (Choice.awaits_previous_end):
    # the prices stay those of a new period meanwhile.
    values["renewal"] = "1" if renewing else ""
    # Offered: what some plan offers, less a budget year over before a renewal could start.
    earliest = _earliest_start(current, dates.get("previous_end") if renewing else None, today)
    offered = [option.term for option in term_options(catalog, today, earliest)]
    if term is not None and "term" not in errors and term not in offered:
        errors["term"] = PlanError(
            "term_not_offered",
            "Term {value} is not offered: choose one from the list",
            "term",
            value=term.code,
        )
    return Choice(
        values=values,
        term=term,
        billing=billing,
        quantities=quantities,
        licence_value=licence_value,
        renewing=renewing,
        previous_end=dates.get("previous_end"),
        start=dates.get("start"),
        errors=errors,
        defaults=defaults,
        current=current,
    )


def compare(catalog: Catalog, choice: Choice, today: date, shown: str | None = None) -> Comparison:
    """All plans as columns priced for ``choice``, their features grouped, their SLA targets;
    ``shown`` is the plan a phone shows first (see :func:`shown_plan`)."""
    plans = compared_plans(catalog, choice)
    columns = tuple(price_column(catalog, plan, choice, today) for plan in plans)
    groups: dict[str, list[FeatureRow]] = {}
    for feature in catalog.features:
        values = tuple(plan.features.get(feature.code) for plan in plans)
        if any(value is not None for value in values):
            groups.setdefault(feature.group, []).append(FeatureRow(feature, values))
    sla = tuple(
        SlaRow(code, tuple(plan.sla.get(code) for plan in plans))
        for code in catalog.sla_targets
        if any(code in plan.sla for plan in plans)
    )
    terms = term_options(catalog, today, choice.earliest_start(today))
    return Comparison(
        catalog=catalog,
        choice=choice,
        terms=terms,
        billing_codes=_billing_codes(catalog),
        units=_priced_units(catalog),
        takes_licence_value=any(p.pricing == "percent-of-licence" for p in plans),
        offers_renewal_terms=any(option.renewal_only for option in terms)
        or any(plan.loyalty for plan in plans),
        columns=columns,
        groups=tuple((group, tuple(rows)) for group, rows in groups.items()),
        sla=sla,
        shown_plan=shown_plan(catalog, choice, shown),
        shown_asked=shown in {plan.code for plan in plans},
        earliest_start=max(today, choice.earliest_start(today) or today),
    )


def compared_plans(catalog: Catalog, choice: Choice) -> tuple[Plan, ...]:
    """The plans side by side: those offered, and an archived one the client is on (which
    they may still renew), in the catalog's order."""
    current = choice.current.plan if choice.current is not None else None
    return tuple(
        plan for code, plan in catalog.plans.items() if not plan.archived or code == current
    )


def shown_plan(catalog: Catalog, choice: Choice, asked: str | None) -> str:
    """The plan shown on a phone: ``asked`` if the comparison has it, else the client's
    current plan, else the middle of the plans compared."""
    codes = [plan.code for plan in compared_plans(catalog, choice)]
    if asked in codes:
        return asked
    if choice.current is not None and choice.current.plan in codes:
        return choice.current.plan
    return codes[(len(codes) - 1) // 2]


def quote_params(plan: Plan, choice: Choice) -> dict[str, str]:
    """The engine's parameters for ``plan`` under ``choice``: only what the plan takes."""
    params = {"plan": plan.code}
    if plan.takes_term and choice.term is not None:
        params["term"] = choice.term.code
    elif plan.pricing == "on-request" and plan.terms:
        # No price a term would change: the plan's own term, whatever the choice.
        params["term"] = (plan.default_term or next(iter(plan.terms))).code
    if plan.billing and choice.billing:
        params["billing"] = choice.billing
    for unit, quantity in choice.quantities.items():
        if unit in plan.unit_prices:
            params[f"qty.{unit}"] = str(quantity)
    if plan.pricing == "percent-of-licence" and choice.licence_value is not None:
        params["licence_value"] = str(choice.licence_value)
    if choice.start is not None and plan.takes_term:
        params["start"] = choice.start.isoformat()
    return params


def price_column(catalog: Catalog, plan: Plan, choice: Choice, today: date) -> PlanColumn:
    if choice.errors or plan.pricing == "included":
        return PlanColumn(plan, None, None, None)
    try:
        asked = parse_quote_request(catalog, quote_params(plan, choice), today)
        if asked.term is not None and choice.current is not None:
            asked = renewal_request(choice.current, plan.code, asked.term, today, asked)
        elif asked.term is not None and choice.renews and choice.start is not None:
            # The client's word: the same plan renewed on the start they chose (the engine
            # tells whether that is continuous).
            asked = replace(asked, previous_plan=plan.code, previous_end=choice.previous_end)
        elif asked.term is not None and choice.renews:
            # The same plan, renewed after the period they say ends then.
            asked = renewal_after(
                plan.code, choice.previous_end, plan.code, asked.term, today, asked
            )
        priced = quote(catalog, asked, today)
    except PlanError as error:
        return PlanColumn(plan, None, None, error)
    return PlanColumn(plan, priced, savings(catalog, priced), None)


def _billing_codes(catalog: Catalog) -> tuple[str, ...]:
    codes: list[str] = []
    for plan in catalog.offered.values():
        codes.extend(code for code in plan.billing if code not in codes)
    return tuple(codes)


def _priced_units(catalog: Catalog) -> tuple[str, ...]:
    """Units some plan is priced by, in the catalog's order."""
    priced = {unit for plan in catalog.offered.values() for unit in plan.unit_prices}
    return tuple(unit for unit in catalog.units if unit in priced)
