"""Subscriptions: days left, renewal offers and prorated upgrades of a period already paid.

A period is what a paid order bought: a plan from ``start`` to ``end``
(inclusive). Renewals start the day after it ends, and are continuous (loyalty
and multi-year prices) only if they start no later than that day. An upgrade
mid-period to a plan that costs more for the same term charges the difference
prorated by the days left::

    (new plan's price - old plan's price) × days left / days in the period

Everything here prices through :func:`portal.plans.pricing.quote`, so a
renewal offer on the account page and the order it becomes agree to the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from portal.plans.catalog import Catalog
from portal.plans.errors import PlanError
from portal.plans.money import round_money
from portal.plans.pricing import Installment, Line, Quote, quote
from portal.plans.provider import vat_of
from portal.plans.requests import PlanQuoteRequest
from portal.plans.terms import Term

# Only these are bought for a term and paid in advance: a per-request plan is
# paid per visit, an included one costs nothing and one on request is agreed
# with a manager.
ORDERABLE_PRICING = frozenset({"term-table", "per-unit", "percent-of-licence"})


@dataclass(frozen=True)
class Period:
    """A paid period of ``plan`` covering ``start``..``end`` inclusive, bought for ``term``."""

    plan: str
    term: Term
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def days_left(self, today: date) -> int:
        """Covered days from ``today`` (included) to the end; the whole period before it starts."""
        if today > self.end:
            return 0
        return (self.end - max(today, self.start)).days + 1

    def days_to_end(self, today: date) -> int:
        """Days from ``today`` to the last day: 0 on the last day, negative after it."""
        return (self.end - today).days

    def is_current(self, today: date) -> bool:
        return self.start <= today <= self.end

    @property
    def renewal_start(self) -> date:
        """The day after the period ends: where a renewal starts, and the last day it can
        start and still be continuous."""
        return self.end + timedelta(days=1)


def is_orderable(catalog: Catalog, plan_code: str, renewing: str | None = None) -> bool:
    """Whether a client can order ``plan_code`` online for a term and pay in advance; an
    archived plan only as the renewal of a period of it (``renewing``: that period's plan)."""
    plan = catalog.plans.get(plan_code)
    return (
        plan is not None
        and plan.pricing in ORDERABLE_PRICING
        and bool(plan.terms)
        and (not plan.archived or renewing == plan_code)
    )


def check_start(start: date, today: date) -> None:
    """A period bought ``today`` cannot begin before it: raises ``start_in_past``."""
    if start < today:
        raise PlanError(
            "start_in_past",
            "{value} has passed: start today or later",
            "start",
            value=start.isoformat(),
        )


def check_renewal_start(start: date, previous_end: date) -> None:
    """A renewal follows its period: raises ``start_in_previous_period`` for a start
    inside the period that ends on ``previous_end``, whose days are paid for."""
    if start <= previous_end:
        raise PlanError(
            "start_in_previous_period",
            "{value} falls in the period you renew, which ends on {end}: start on {next} or later",
            "start",
            value=start.isoformat(),
            end=previous_end.isoformat(),
            next=(previous_end + timedelta(days=1)).isoformat(),
        )


def renewal_terms(catalog: Catalog, plan_code: str, start: date) -> tuple[Term, ...]:
    """The terms ``plan_code`` offers for a renewal starting on ``start``, shortest first.

    The catalog's ``budget`` entry becomes the budget year ``start`` falls in.
    """
    plan = catalog.plans[plan_code]
    terms = []
    for term in plan.terms:
        terms.append(Term("budget", start.year) if term.kind == "budget" else term)
    return tuple(sorted(terms, key=_term_order))


def _term_order(term: Term) -> tuple[int, int]:
    return (term.months or 12, 0 if term.kind != "budget" else 1)


def renewal_request(
    period: Period, plan_code: str, term: Term, today: date, options: PlanQuoteRequest | None = None
) -> PlanQuoteRequest:
    """What to price when ``period`` is followed by ``plan_code`` for ``term``.

    The new period starts the day after ``period`` ends, or today if that day
    has passed (then the renewal is no longer continuous and gets list prices).
    ``options`` carries the units, billing and licence value of the period's
    order, which a renewal keeps. A budget year starts on its January 1 at the
    earliest.
    """
    return renewal_after(period.plan, period.end, plan_code, term, today, options)


def first_renewal_day(previous_end: date, today: date) -> date:
    """The first day a period that follows one ending ``previous_end`` can start: the day
    after, today at the earliest."""
    return max(previous_end + timedelta(days=1), today)


def renewal_start(previous_end: date, term: Term, today: date) -> date:
    """Where a period for ``term`` that follows one ending ``previous_end`` starts: the day
    after, today at the earliest, and a budget year on its January 1 at the earliest."""
    start = first_renewal_day(previous_end, today)
    if term.kind == "budget":
        start = max(start, date(term.count, 1, 1))
    return start


def renewal_after(
    previous_plan: str,
    previous_end: date,
    plan_code: str,
    term: Term,
    today: date,
    options: PlanQuoteRequest | None = None,
) -> PlanQuoteRequest:
    """:func:`renewal_request` for a previous period known only by its plan and last day
    (a client's word on the comparison page, for a period bought elsewhere)."""
    start = renewal_start(previous_end, term, today)
    base = options or PlanQuoteRequest(plan=plan_code, term=term, start=start)
    return replace(
        base,
        plan=plan_code,
        term=term,
        start=start,
        previous_plan=previous_plan,
        previous_end=previous_end,
    )


def renewal_offers(
    catalog: Catalog, period: Period, today: date, options: PlanQuoteRequest | None = None
) -> tuple[Quote, ...]:
    """The same plan renewed for each term it offers, priced as a renewal of ``period``.

    Terms offered only on a continuous renewal (Iotex 2y, 3y) are left out once
    the renewal can no longer be continuous; terms whose budget year has ended
    are left out.
    """
    offers = []
    for term in renewal_terms(catalog, period.plan, max(period.renewal_start, today)):
        try:
            offers.append(
                quote(catalog, renewal_request(period, period.plan, term, today, options))
            )
        except PlanError:
            continue
    return tuple(offers)


@dataclass(frozen=True)
class Proration:
    """The arithmetic of an upgrade: ``(new_price - old_price) × days_left / days``."""

    old_plan: str
    new_plan: str
    term: Term
    old_price: Decimal
    new_price: Decimal
    days_left: int
    days: int
    amount: Decimal

    @property
    def difference(self) -> Decimal:
        return self.new_price - self.old_price


def upgrade(
    catalog: Catalog,
    period: Period,
    new_plan: str,
    today: date,
    options: PlanQuoteRequest | None = None,
) -> tuple[Quote, Proration]:
    """Price a move from ``period``'s plan to ``new_plan`` from ``today`` to the period's end.

    Both plans are priced at list price for the period's own term (a budget
    year as the period's year) with the period's options; the new plan must
    cost more. The quote covers ``today``..``period.end`` in one line and one
    installment due ``today``.

    Raises :class:`PlanError`: ``same_plan``, ``period_over`` (no day left),
    ``term_not_offered`` (the new plan lacks the term), ``not_an_upgrade`` (the
    new plan does not cost more: a downgrade takes effect at the next renewal).
    """
    if new_plan == period.plan:
        raise PlanError("same_plan", "{value} is already the current plan", "plan", value=new_plan)
    if new_plan not in catalog.plans or not is_orderable(catalog, new_plan):
        raise PlanError("unknown_plan", "Unknown plan '{value}'", "plan", value=new_plan)
    days_left = period.days_left(today)
    if days_left == 0:
        raise PlanError(
            "period_over", "The period ended on {value}", "period", value=period.end.isoformat()
        )
    base = options or PlanQuoteRequest(plan=period.plan, term=period.term, start=period.start)
    priced = {}
    for code in (period.plan, new_plan):
        plan = catalog.plans[code]
        if plan.offer_for(period.term) is None:
            raise PlanError(
                "term_not_offered",
                "Plan {plan} does not offer term {value}",
                "term",
                plan=code,
                value=period.term.code,
            )
        request = replace(
            base,
            plan=code,
            term=period.term,
            start=period.start,
            previous_plan=None,
            previous_end=None,
        )
        priced[code] = quote(catalog, request).total
    old_price, new_price = priced[period.plan], priced[new_plan]
    if new_price is None or old_price is None or new_price <= old_price:
        raise PlanError(
            "not_an_upgrade",
            "{value} does not cost more than {plan}: a change to it takes effect at the next "
            "renewal",
            "plan",
            value=new_plan,
            plan=period.plan,
        )
    amount = round_money((new_price - old_price) * days_left / period.days, catalog.currency)
    proration = Proration(
        old_plan=period.plan,
        new_plan=new_plan,
        term=period.term,
        old_price=old_price,
        new_price=new_price,
        days_left=days_left,
        days=period.days,
        amount=amount,
    )
    start = max(today, period.start)
    line = Line(
        code=new_plan,
        kind="upgrade",
        name=catalog.plans[new_plan].name,
        amount=amount,
        quantity=Decimal(days_left),
        unit_price=new_price - old_price,
        term=period.term,
    )
    upgraded = Quote(
        catalog=catalog.code,
        catalog_version=catalog.version,
        currency=catalog.currency,
        subject="plan",
        code=new_plan,
        name=catalog.plans[new_plan].name,
        lines=(line,),
        total=amount,
        installments=(Installment(due=today, amount=amount),),
        start=start,
        coverage=(start, period.end),
        term=period.term,
        billing=None,
    )
    return upgraded, proration


@dataclass(frozen=True)
class RenewalChoice:
    """A renewal offer as the account page weighs it.

    ``list_price`` is what the same term costs at list price, set when the renewal costs less
    (a loyalty price, a renewal discount). ``per_month`` spreads the total over the months
    covered. ``undercuts`` is the longest shorter term that costs more than this one (KBS
    OPTIMA: 9 months at loyalty price for 45 090 against 8 months for 46 560); ``best``
    marks the two or three offers with the lowest price a month.
    """

    quote: Quote
    list_price: Decimal | None
    per_month: Decimal
    best: bool = False
    undercuts: Quote | None = None


BEST_RENEWALS = 3


def weigh_renewals(catalog: Catalog, offers: tuple[Quote, ...]) -> tuple[RenewalChoice, ...]:
    """``offers`` (as :func:`renewal_offers` gives them) with their list prices, the best
    marked and the shorter terms each one undercuts, in the offers' order."""
    priced = [offer for offer in offers if offer.total is not None and offer.coverage]
    per_month = {id(o): round_money(o.net_total / _months_of(o), o.currency) for o in priced}
    ranked = sorted(priced, key=lambda o: (per_month[id(o)], _months_of(o)))
    best = {id(o) for o in ranked[:BEST_RENEWALS]} if len(priced) > 1 else set()
    choices = []
    for offer in priced:
        listed = list_total(catalog, offer)
        # A budget year is weighed against the months left in it apart (Savings.cheaper_term).
        shorter = [
            other
            for other in priced
            if "budget" not in (other.term.kind, offer.term.kind)
            and _months_of(other) < _months_of(offer)
            and other.total > offer.total
        ]
        choices.append(
            RenewalChoice(
                quote=offer,
                list_price=listed if listed is not None and listed > offer.total else None,
                per_month=per_month[id(offer)],
                best=id(offer) in best,
                undercuts=max(shorter, key=_months_of) if shorter else None,
            )
        )
    return tuple(choices)


def list_total(catalog: Catalog, offer: Quote) -> Decimal | None:
    """What ``offer`` would cost at list price: loyalty lines at the term's table price,
    renewal and prepayment discounts left out (VAT added on top recomputed as the engine
    would). None when the plan has no such price."""
    plan = catalog.plans.get(offer.code)
    if plan is None:
        return None
    total = Decimal(0)
    for line in offer.lines:
        if line.kind in ("discount", "vat"):
            continue
        if line.loyalty:
            listed = plan.offer_for(line.term)
            if listed is None or listed.price is None:
                return None
            total += listed.price
        else:
            total += line.amount
    vat = next((line for line in offer.lines if line.kind == "vat"), None)
    if vat is not None and catalog.provider is not None:
        total = vat_of(total, catalog.provider.vat, offer.currency).gross
    return total


def _months_of(offer: Quote) -> int:
    start, end = offer.coverage
    return max(1, (end.year - start.year) * 12 + end.month - start.month + (end.day >= start.day))
