"""The plan engine: catalogs, terms, prices, quotas and SLA clocks.

Pure domain code. Nothing here imports Flask, SQLAlchemy, Stripe or WTForms,
nothing reads the clock or a database: every input arrives as an argument, so
pages, the JSON API, the CLI and the tests all get the same answers.
"""

from portal.plans.catalog import Catalog, LocalizedText, Plan, Service, SlaTarget
from portal.plans.errors import PlanError
from portal.plans.loading import (
    CatalogError,
    bundled_catalog_names,
    bundled_catalog_path,
    load_catalog,
    parse_catalog,
)
from portal.plans.money import round_money
from portal.plans.pricing import Installment, Line, Quote, Savings, quote, savings
from portal.plans.requests import PlanQuoteRequest, ServiceQuoteRequest, parse_quote_request
from portal.plans.sla import SlaDue, due_at
from portal.plans.terms import Term

__all__ = [
    "Catalog",
    "CatalogError",
    "Installment",
    "Line",
    "LocalizedText",
    "Plan",
    "PlanError",
    "PlanQuoteRequest",
    "Quote",
    "Savings",
    "Service",
    "ServiceQuoteRequest",
    "SlaDue",
    "SlaTarget",
    "Term",
    "bundled_catalog_names",
    "bundled_catalog_path",
    "due_at",
    "load_catalog",
    "parse_catalog",
    "parse_quote_request",
    "quote",
    "round_money",
    "savings",
]
