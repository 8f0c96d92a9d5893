"""Quotes: itemized lines, total, coverage and installments for a plan or a service.

Every amount is rounded half-up to the currency's minor unit at its line; the
total is the sum of the lines and the installments sum to the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from portal.plans.catalog import BILLING_MONTHS, Catalog, LocalizedText, Plan, Service
from portal.plans.errors import PlanError
from portal.plans.money import round_money
from portal.plans.provider import vat_of
from portal.plans.requests import PlanQuoteRequest, ServiceQuoteRequest
from portal.plans.terms import Term, add_months

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Line:
    """One priced line. ``kind``: plan, unit, discount, hours, bundle, fee, service or vat
    (VAT added to prices that exclude it, at ``percent``).

    ``amount`` is None only for a price on request. ``quantity``, ``unit_price``,
    ``months`` and ``percent`` say how the amount was reached, for display.
    """

    code: str
    kind: str
    name: LocalizedText
    amount: Decimal | None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    months: int | None = None
    percent: Decimal | None = None
    term: Term | None = None
    loyalty: bool = False
    bundle_hours: int | None = None


@dataclass(frozen=True)
class Installment:
    due: date
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    """A priced offer. ``total`` is None when the plan's price is on request.

    ``coverage`` is the first and last covered day of a plan term, None for
    services and per-request plans. ``continuous`` tells whether the quote is a
    continuous renewal of the same plan (loyalty and multi-year prices).
    """

    catalog: str
    catalog_version: int | None
    currency: str
    subject: str
    code: str
    name: LocalizedText
    lines: tuple[Line, ...]
    total: Decimal | None
    installments: tuple[Installment, ...]
    start: date | None = None
    coverage: tuple[date, date] | None = None
    term: Term | None = None
    billing: str | None = None
    continuous: bool = False

    @property
    def on_request(self) -> bool:
        return self.total is None

    @property
    def net_total(self) -> Decimal | None:
        """The total before VAT added on top (the total itself when prices include VAT)."""
        if self.total is None:
            return None
        return self.total - sum(
            (line.amount for line in self.lines if line.kind == "vat"), Decimal(0)
        )


def quote(
    catalog: Catalog, request: PlanQuoteRequest | ServiceQuoteRequest, today: date | None = None
) -> Quote:
    """Price ``request`` from ``catalog``; ``today`` dates a service quote's single installment."""
    if isinstance(request, ServiceQuoteRequest):
        return _quote_service(catalog, request, today)
    return _quote_plan(catalog, request)


def is_continuous(request: PlanQuoteRequest) -> bool:
    """A renewal is continuous when it starts no later than the day after the same plan ended."""
    return (
        request.previous_plan == request.plan
        and request.previous_end is not None
        and (request.start - request.previous_end).days <= 1
    )


def _quote_plan(catalog: Catalog, request: PlanQuoteRequest) -> Quote:
    plan = catalog.plans[request.plan]
    continuous = is_continuous(request)
    term = request.term
    coverage = term.coverage(request.start) if term else None
    if term is not None:
        offer = plan.offer_for(term)
        if offer.renewal_only and not continuous:
            raise PlanError(
                "renewal_required",
                "Term {value} is offered only on a continuous renewal of the same plan: give "
                "previous_plan and previous_end, and start no later than the day after it",
                "term",
                value=term.code,
            )
    pricer = _PLAN_PRICERS[plan.pricing]
    lines = _with_vat(catalog, tuple(pricer(catalog, plan, request, continuous)))
    if plan.pricing == "on-request":
        total, installments = None, ()
    else:
        total = sum((line.amount for line in lines), Decimal(0))
        installments = _installments(catalog, plan, request, total)
    return Quote(
        catalog=catalog.code,
        catalog_version=catalog.version,
        currency=catalog.currency,
        subject="plan",
        code=plan.code,
        name=plan.name,
        lines=lines,
        total=total,
        installments=installments,
        start=request.start,
        coverage=coverage,
        term=term,
        billing=_billing(plan, request),
        continuous=continuous,
    )


def _billing(plan: Plan, request: PlanQuoteRequest) -> str | None:
    return request.billing or plan.default_billing


def _price_term_table(catalog, plan, request, continuous):
    term = request.term
    loyalty = plan.loyalty.get(term) if continuous else None
    price = loyalty if loyalty is not None else plan.offer_for(term).price
    yield Line(
        code=plan.code,
        kind="plan",
        name=plan.name,
        amount=round_money(price, catalog.currency),
        months=term.months,
        term=term,
        loyalty=loyalty is not None,
    )


def _unit_lines(catalog, plan, request, months):
    # The catalog's default quantities stand in only when the caller named no unit at all.
    named = request.quantities
    quantities = {
        unit: named.get(unit, 0) if named else catalog.units[unit].default_quantity
        for unit in plan.unit_prices
    }
    if not any(quantities.values()):
        raise PlanError("empty_quote", "Choose at least one unit to price", "qty")
    for unit, quantity in quantities.items():
        if quantity:
            price = plan.unit_prices[unit]
            yield Line(
                code=unit,
                kind="unit",
                name=catalog.units[unit].name,
                amount=round_money(price * quantity * (months or 1), catalog.currency),
                quantity=Decimal(quantity),
                unit_price=price,
                months=months,
            )


def _price_per_unit(catalog, plan, request, continuous):
    lines = list(_unit_lines(catalog, plan, request, request.term.months))
    yield from lines
    billing = _billing(plan, request)
    percent = plan.billing.get(billing, Decimal(0))
    if percent:
        subtotal = sum(line.amount for line in lines)
        yield Line(
            code="prepayment-discount",
            kind="discount",
            name=plan.name,
            amount=-round_money(subtotal * percent / HUNDRED, catalog.currency),
            percent=percent,
        )


def _price_per_request(catalog, plan, request, continuous):
    yield from _unit_lines(catalog, plan, request, None)


def _price_percent_of_licence(catalog, plan, request, continuous):
    term = request.term
    years = Decimal(term.months) / 12
    base = round_money(request.licence_value * plan.percent / HUNDRED * years, catalog.currency)
    yield Line(
        code=plan.code,
        kind="plan",
        name=plan.name,
        amount=base,
        unit_price=request.licence_value,
        months=term.months,
        percent=plan.percent,
        term=term,
    )
    discount = plan.offer_for(term).discount_percent
    off = round_money(base * discount / HUNDRED, catalog.currency)
    if off and continuous:
        yield Line(
            code="renewal-discount",
            kind="discount",
            name=plan.name,
            amount=-off,
            percent=discount,
            term=term,
        )


def check_eligibility(plan: Plan, quantities: Mapping[str, int]) -> None:
    """Refuse ``quantities`` short of the plan's minimum (Crystals' Garant: 100 registers)
    with ``below_minimum``; a count not given is not judged."""
    rule = plan.eligibility
    if rule is not None and rule.unit in quantities:
        have = quantities[rule.unit]
        if have < rule.minimum:
            raise PlanError(
                "below_minimum",
                "This plan is for clients with at least {minimum} of '{unit}' ({have} given)",
                f"qty.{rule.unit}",
                minimum=rule.minimum,
                unit=rule.unit,
                have=have,
            )


def _price_on_request(catalog, plan, request, continuous):
    check_eligibility(plan, request.quantities)
    yield Line(code=plan.code, kind="plan", name=plan.name, amount=None, term=request.term)


def _price_included(catalog, plan, request, continuous):
    yield Line(
        code=plan.code,
        kind="plan",
        name=plan.name,
        amount=round_money(Decimal(0), catalog.currency),
    )


_PLAN_PRICERS = {
    "included": _price_included,
    "term-table": _price_term_table,
    "per-unit": _price_per_unit,
    "per-request": _price_per_request,
    "percent-of-licence": _price_percent_of_licence,
    "on-request": _price_on_request,
}


VAT_NAME = LocalizedText(
    {"en": "VAT", "ru": "НДС", "uk": "ПДВ", "kk": "ҚҚС", "fa": "مالیات بر ارزش افزوده"}
)


def _with_vat(catalog: Catalog, lines: tuple[Line, ...]) -> tuple[Line, ...]:
    """``lines`` and, when the provider's prices exclude VAT, a line adding it."""
    vat = catalog.provider.vat if catalog.provider else None
    if vat is None or not vat.payer or vat.included or any(line.amount is None for line in lines):
        return lines
    net = sum((line.amount for line in lines), Decimal(0))
    added = vat_of(net, vat, catalog.currency).vat
    return (*lines, Line("vat", "vat", VAT_NAME, added, percent=vat.rate))


def _installments(catalog, plan, request, total) -> tuple[Installment, ...]:
    """Equal installments in advance on the schedule; the last one takes the rounding rest."""
    billing = _billing(plan, request)
    if not total:
        return ()
    if billing is None or request.term is None:
        return (Installment(request.start, total),)
    every = BILLING_MONTHS[billing]
    count = request.term.months // every
    share = round_money(total / count, catalog.currency)
    amounts = [share] * (count - 1) + [total - share * (count - 1)]
    return tuple(
        Installment(add_months(request.start, i * every), amount)
        for i, amount in enumerate(amounts)
    )


@dataclass(frozen=True)
class Savings:
    """What a plan quote saves, for display beside it.

    ``months`` is the coverage in months (a budget year: the months it spans,
    rounded up); ``per_month`` the total spread over them. ``month_by_month`` is
    what the same months cost bought one month at a time at list price
    (``month_price`` each, for plans with a one-month price), and
    ``saving`` how much less the quote costs (0 when it does not). ``discounts``
    sums the discount lines (prepayment, renewal). ``cheaper_term`` and
    ``cheaper_price``: a budget year that costs more than buying its months.
    """

    months: int | None
    per_month: Decimal | None
    month_price: Decimal | None
    month_by_month: Decimal | None
    saving: Decimal
    discounts: Decimal
    cheaper_term: Term | None = None
    cheaper_price: Decimal | None = None


def savings(catalog: Catalog, priced: Quote) -> Savings | None:
    """The savings of a plan quote; None for services and prices on request."""
    if priced.subject != "plan" or priced.total is None or priced.term is None:
        return None
    plan = catalog.plans[priced.code]
    currency = catalog.currency
    term = priced.term
    months = term.months or _months_spanned(*priced.coverage)
    discounts = -sum((line.amount for line in priced.lines if line.kind == "discount"), Decimal(0))
    month_by_month = month_price = None
    if plan.pricing == "term-table":
        one_month = plan.offer_for(Term("months", 1))
        if one_month is not None:
            month_price = one_month.price
            month_by_month = month_price * months
    elif plan.pricing == "per-unit":
        month_by_month = sum(line.amount for line in priced.lines if line.kind == "unit")
    # Savings compare catalog prices: before VAT added on top.
    total = priced.net_total
    saving = max(month_by_month - total, Decimal(0)) if month_by_month else discounts
    cheaper_term = cheaper_price = None
    if term.kind == "budget" and months < 12:
        offer = plan.offer_for(Term("months", months))
        if offer is not None:
            # On a continuous renewal, the months are offered at their loyalty price too.
            price = offer.price
            if priced.continuous and offer.term in plan.loyalty:
                price = min(price, plan.loyalty[offer.term])
            if price < total:
                cheaper_term, cheaper_price = offer.term, price
    return Savings(
        months=months,
        per_month=round_money(total / months, currency),
        month_price=month_price,
        month_by_month=month_by_month,
        saving=saving,
        discounts=discounts,
        cheaper_term=cheaper_term,
        cheaper_price=cheaper_price,
    )


def _months_spanned(start: date, end: date) -> int:
    """The fewest whole months from ``start`` that cover ``end`` (at most 12)."""
    months = 1
    while months < 12 and add_months(start, months) - timedelta(days=1) < end:
        months += 1
    return months


def cheapest_hours(hours: int, hour_price: Decimal, bundles) -> list[tuple[int, int]]:
    """The cheapest mix for exactly ``hours``: (bundle size, count) pairs; size 1 is single hours.

    Dynamic programming over whole hours: cost grows with ``hours`` times the
    number of bundle sizes, a few thousand steps for the largest order taken.
    """
    sizes = [(1, hour_price)] + [(b.hours, b.price) for b in bundles]
    best: list[Decimal] = [Decimal(0)] + [Decimal("Infinity")] * hours
    choice = [0] * (hours + 1)
    for total in range(1, hours + 1):
        for size, price in sizes:
            if size <= total and best[total - size] + price < best[total]:
                best[total] = best[total - size] + price
                choice[total] = size
    counts: dict[int, int] = {}
    left = hours
    while left:
        counts[choice[left]] = counts.get(choice[left], 0) + 1
        left -= choice[left]
    return sorted(counts.items(), reverse=True)


def _quote_service(catalog: Catalog, request: ServiceQuoteRequest, today: date | None) -> Quote:
    service = catalog.services[request.service]
    lines = _with_vat(catalog, tuple(_service_lines(catalog, service, request)))
    total = sum((line.amount for line in lines), Decimal(0))
    return Quote(
        catalog=catalog.code,
        catalog_version=catalog.version,
        currency=catalog.currency,
        subject="service",
        code=service.code,
        name=service.name,
        lines=tuple(lines),
        total=total,
        installments=(Installment(today, total),) if today else (),
    )


def _service_lines(catalog: Catalog, service: Service, request: ServiceQuoteRequest):
    currency = catalog.currency
    if service.pricing == "fixed":
        quantity = request.quantity or 1
        yield Line(
            code=service.code,
            kind="service",
            name=service.name,
            amount=round_money(service.price * quantity, currency),
            quantity=Decimal(quantity),
            unit_price=service.price,
        )
        return
    asked = request.hours if request.hours is not None else max(service.minimum_hours, Decimal(1))
    step = service.hour_step
    if step is not None and asked % step:
        raise PlanError(
            "invalid_hours", "Hours are sold in steps of {step}", "hours", step=_plain(step)
        )
    billed = max(asked, service.minimum_hours)
    if service.bundles:
        yield from _bundle_lines(service, billed, currency)
    else:
        yield Line(
            code=service.code,
            kind="hours",
            name=service.name,
            amount=round_money(service.price * billed, currency),
            quantity=billed,
            unit_price=service.price,
        )
    fee = service.one_time_fee
    if fee is not None and request.first_time:
        yield Line(
            code=fee.code, kind="fee", name=fee.name, amount=round_money(fee.amount, currency)
        )


def _bundle_lines(service: Service, billed: Decimal, currency: str):
    """The cheapest mix of bundles and single hours for ``billed`` hours. A part of an hour
    is charged pro rata on top of the whole hours' mix, unless rounding up to the next
    whole hour's mix costs no more (4.9 hours: one 5-hour bundle)."""
    whole = int(billed)
    fraction = billed - whole

    def cost(mix):
        return sum((_size_price(service, size) * count for size, count in mix), Decimal(0))

    mix = cheapest_hours(whole, service.price, service.bundles)
    if fraction:
        rounded_up = cheapest_hours(whole + 1, service.price, service.bundles)
        if cost(rounded_up) <= cost(mix) + fraction * service.price:
            mix, fraction = rounded_up, Decimal(0)
    counts = dict(mix)
    singles = Decimal(counts.pop(1, 0)) + fraction
    for size, count in sorted(counts.items(), reverse=True):
        price = _size_price(service, size)
        yield Line(
            code=f"{service.code}-bundle-{size}",
            kind="bundle",
            name=service.name,
            amount=round_money(price * count, currency),
            quantity=Decimal(count),
            unit_price=price,
            bundle_hours=size,
        )
    if singles:
        yield Line(
            code=service.code,
            kind="hours",
            name=service.name,
            amount=round_money(service.price * singles, currency),
            quantity=singles,
            unit_price=service.price,
        )


def _size_price(service: Service, size: int) -> Decimal:
    if size == 1:
        return service.price
    return next(b.price for b in service.bundles if b.hours == size)


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
