"""Everything about one plan: prices by term, SLA targets and calendars, quotas, extras, scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.catalog.comparison import Choice, PlanColumn, price_column, term_order
from portal.plans import Catalog, Plan, Service
from portal.plans.catalog import (
    Calendar,
    Feature,
    FeatureValue,
    PlanSla,
    ScopeItem,
    SlaTarget,
    TermOffer,
)


@dataclass(frozen=True)
class TermPrice:
    offer: TermOffer
    loyalty: Decimal | None


@dataclass(frozen=True)
class SlaLine:
    target: SlaTarget
    promise: PlanSla
    calendar: Calendar | None


@dataclass(frozen=True)
class PlanDetail:
    catalog: Catalog
    choice: Choice
    plan: Plan
    column: PlanColumn
    term_prices: tuple[TermPrice, ...]
    sla: tuple[SlaLine, ...]
    quotas: tuple[tuple[Feature, FeatureValue], ...]
    features: tuple[tuple[Feature, FeatureValue], ...]
    services: tuple[Service, ...]
    out_of_scope: tuple[ScopeItem, ...]


def plan_quotas(catalog: Catalog, plan: Plan) -> tuple[tuple[Feature, FeatureValue], ...]:
    """What the plan includes per period (hours a month, visits, sessions), in catalog order."""
    return tuple(
        (feature, plan.features[feature.code])
        for feature in catalog.features
        if feature.code in plan.features
        and feature.kind == "quantity"
        and feature.per
        and plan.features[feature.code].included
    )


def plan_detail(catalog: Catalog, plan: Plan, choice: Choice, today: date) -> PlanDetail:
    """The plan's page: its price for ``choice`` and all it offers."""
    values = tuple(
        (feature, plan.features[feature.code])
        for feature in catalog.features
        if feature.code in plan.features
    )
    quotas = plan_quotas(catalog, plan)
    calendar = catalog.calendar_of(plan)
    return PlanDetail(
        catalog=catalog,
        choice=choice,
        plan=plan,
        column=price_column(catalog, plan, choice, today),
        term_prices=tuple(
            TermPrice(offer, plan.loyalty.get(term))
            for term, offer in sorted(plan.terms.items(), key=lambda item: term_order(item[0]))
        ),
        sla=tuple(
            SlaLine(
                catalog.sla_targets[code],
                promise,
                calendar if promise.upper.working else None,
            )
            for code, promise in plan.sla.items()
        ),
        quotas=quotas,
        features=values,
        services=tuple(catalog.services.values()),
        out_of_scope=catalog.out_of_scope,
    )
