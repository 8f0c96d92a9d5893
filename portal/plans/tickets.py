"""What a new ticket is: its category, the plan whose promises it runs, and its targets.

A ticket's category is ``support`` (a problem the plan covers), one of the
catalog's out-of-scope items (Crystals' third-party hardware: consultation and
diagnostics only, so no target but those every ticket runs) or ``development``
(a proposal for product analysis: no SLA at all). An out-of-scope item named
``development`` is the catalog's own wording for development requests.

Without an active plan a ticket runs the catalog's per-request plan, when it
promises anything (iiko's one-off targets), else no SLA.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.plans.catalog import Catalog, LocalizedText
from portal.plans.errors import PlanError
from portal.plans.requests import plan_of
from portal.plans.sla import claimable_targets, ticket_targets

SUPPORT = "support"
DEVELOPMENT = "development"
CATEGORY_KINDS = (SUPPORT, "out-of-scope", DEVELOPMENT)


@dataclass(frozen=True)
class TicketCategory:
    """A choice of the filing form. ``kind`` is ``support``, ``out-of-scope`` or
    ``development``; ``name`` and ``help`` are the catalog's (None for the built-in
    support and development categories, which the portal names itself)."""

    code: str
    kind: str
    name: LocalizedText | None = None
    help: LocalizedText | None = None

    @property
    def has_sla(self) -> bool:
        return self.kind != DEVELOPMENT


def ticket_categories(catalog: Catalog) -> tuple[TicketCategory, ...]:
    """The filing form's categories: support, the catalog's out-of-scope items, development."""
    found = [TicketCategory(SUPPORT, SUPPORT)]
    development = TicketCategory(DEVELOPMENT, DEVELOPMENT)
    for item in catalog.out_of_scope:
        if item.code == DEVELOPMENT:
            development = TicketCategory(DEVELOPMENT, DEVELOPMENT, item.name, item.help)
        elif item.code != SUPPORT:
            found.append(TicketCategory(item.code, "out-of-scope", item.name, item.help))
    return (*found, development)


def category_of(catalog: Catalog, code: str) -> TicketCategory:
    """The category ``code`` of ``catalog``; a PlanError on ``category`` naming the known."""
    categories = ticket_categories(catalog)
    for category in categories:
        if category.code == code:
            return category
    raise PlanError(
        "unknown_category",
        "Unknown category '{value}' (categories: {known})",
        "category",
        value=code,
        known=", ".join(c.code for c in categories),
    )


def ticket_plan(catalog: Catalog, active_plan: str | None) -> str | None:
    """The plan whose promises a new ticket runs: the organization's active plan if it
    promises anything, else (no active plan) the catalog's first per-request plan that
    does, else None (no SLA)."""
    if active_plan is not None:
        return active_plan if plan_of(catalog, active_plan).sla else None
    return next(
        (
            plan.code
            for plan in catalog.plans.values()
            if plan.pricing == "per-request" and plan.sla
        ),
        None,
    )


def new_ticket_targets(
    catalog: Catalog, plan_code: str | None, category_code: str, claimed: str | None
) -> tuple[str, ...]:
    """The targets a new ticket runs from the start, in the plan's order.

    A support ticket of a plan with targets to claim must claim one (iiko's error
    type); an out-of-scope one claims none and runs only those of every ticket; a
    development request and a ticket without a plan run none. A confirmed defect's
    target starts later (:func:`defect_target`).
    """
    category = category_of(catalog, category_code)
    allowed = claimable_targets(catalog, plan_code) if plan_code and category.has_sla else ()
    if claimed is not None and category.kind != SUPPORT:
        raise PlanError(
            "target_not_claimable",
            "'{value}' is not a target a ticket of this plan can claim (targets: {known})",
            "target",
            value=claimed,
            known="—",
        )
    if plan_code is None or not category.has_sla:
        return ()
    if category.kind == SUPPORT and claimed is None and allowed:
        raise PlanError(
            "target_required",
            "Choose what the problem is (targets: {known})",
            "target",
            known=", ".join(allowed),
        )
    return ticket_targets(catalog, plan_code, claimed)


def defect_target(catalog: Catalog, plan_code: str | None) -> str | None:
    """The target a confirmed defect starts (Crystals' fix date), if the plan has one."""
    if plan_code is None:
        return None
    plan = plan_of(catalog, plan_code)
    return next(
        (code for code in plan.sla if catalog.sla_targets[code].applies == "confirmed-defect"),
        None,
    )


def met_by(catalog: Catalog, target_code: str) -> str:
    """What meets ``target_code``: ``first-reply``, ``resolution`` or ``fix-date``."""
    return catalog.sla_targets[target_code].met_by
