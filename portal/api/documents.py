"""The JSON documents of the API (and of the CLI, which prints the same ones).

Money is a decimal string in the catalog's currency; dates are ISO 8601 and
times ISO 8601 with a UTC offset.
"""

from __future__ import annotations

from decimal import Decimal

from portal.catalog.wording import (
    calendar_name,
    eligibility_words,
    error_message,
    line_label,
    sla_name,
    term_name,
    text,
)
from portal.plans import Catalog, PlanError, Quote
from portal.plans.catalog import Duration, FeatureValue, Plan, Service
from portal.plans.loading import WEEKDAYS
from portal.plans.sla import SlaDue


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def quote_document(quote: Quote, catalog: Catalog) -> dict:
    return {
        "catalog": quote.catalog,
        "catalog_version": quote.catalog_version,
        quote.subject: quote.code,
        "name": text(quote.name, catalog),
        "term": quote.term.code if quote.term else None,
        "billing": quote.billing,
        "continuous_renewal": quote.continuous,
        "currency": quote.currency,
        "total": money(quote.total),
        "on_request": quote.on_request,
        "lines": [
            {
                "code": line.code,
                "label": line_label(line, quote, catalog),
                "amount": money(line.amount),
                "kind": line.kind,
                "quantity": money(line.quantity),
                "unit_price": money(line.unit_price),
            }
            for line in quote.lines
        ],
        "coverage": (
            {"start": quote.coverage[0].isoformat(), "end": quote.coverage[1].isoformat()}
            if quote.coverage
            else None
        ),
        "installments": [
            {"due": item.due.isoformat(), "amount": money(item.amount)}
            for item in quote.installments
        ],
    }


def sla_document(due: SlaDue, catalog: Catalog) -> dict:
    plan = catalog.plans[due.plan]
    promise = plan.sla[due.target]
    return {
        "catalog": catalog.code,
        "catalog_version": catalog.version,
        "plan": due.plan,
        "target": due.target,
        "target_name": text(catalog.sla_targets[due.target].name, catalog),
        "promise": sla_name(promise.upper, promise.lower),
        "clock": due.clock,
        "calendar": calendar_name(due.calendar) if due.calendar else None,
        "opened": due.opened.isoformat(),
        "due": due.due.isoformat(),
        "expected": due.expected.isoformat() if due.expected else None,
    }


def error_document(error: PlanError) -> dict:
    """``{"error": {"code", "message", "field"}}`` with the message in the user's language."""
    return refusal_document(error.code, error_message(error), error.field)


def refusal_document(code: str, message: str, field: str | None = None) -> dict:
    """The API's one error shape, for a refusal that is not the engine's: ``message``
    already in the user's language."""
    return {"error": {"code": code, "message": message, "field": field}}


def provider_document(catalog: Catalog) -> dict | None:
    """The provider's profile: contacts, numbers with their labels, bank details, VAT."""
    provider = catalog.provider
    if provider is None:
        return None
    bank = provider.bank
    return {
        "brand": text(provider.brand, catalog),
        "legal_name": text(provider.legal_name, catalog),
        "country": provider.country,
        "address": text(provider.address, catalog),
        "phones": list(provider.phones),
        "email": provider.email,
        "website": provider.website,
        "support_hours": text(provider.support_hours, catalog),
        "numbers": [
            {"kind": n.kind, "label": text(n.label, catalog), "value": n.value}
            for n in provider.numbers
        ],
        "bank": None
        if bank is None
        else {
            "name": text(bank.bank, catalog),
            "iban": bank.iban,
            "account": bank.account,
            "bic": bank.bic,
            "mfo": bank.mfo,
            "bik": bank.bik,
            "correspondent_account": bank.correspondent_account,
        },
        "vat": {
            "payer": provider.vat.payer,
            "rate": str(provider.vat.rate) if provider.vat.payer else None,
            "prices": ("include" if provider.vat.included else "exclude")
            if provider.vat.payer
            else None,
        },
        "logo": bool(provider.logo),
    }


def catalog_document(catalog: Catalog) -> dict:
    return {
        "code": catalog.code,
        "version": catalog.version,
        "name": text(catalog.name, catalog),
        "provider": text(catalog.brand, catalog),
        "provider_details": provider_document(catalog),
        "currency": catalog.currency,
        "locale": catalog.locale,
        "timezone": catalog.timezone,
        "payment_methods": list(catalog.payment_methods),
        "units": [
            {
                "code": unit.code,
                "name": text(unit.name, catalog),
                "description": text(unit.description, catalog),
                "default": unit.default_quantity,
            }
            for unit in catalog.units.values()
        ],
        "feature_groups": [
            {"code": code, "name": text(name, catalog)}
            for code, name in catalog.feature_groups.items()
        ],
        "features": [
            {
                "code": feature.code,
                "group": feature.group,
                "kind": feature.kind,
                "name": text(feature.name, catalog),
                "unit": text(feature.unit, catalog),
                "per": feature.per,
            }
            for feature in catalog.features
        ],
        "calendars": [
            {
                "code": calendar.code,
                "timezone": calendar.timezone,
                "days": [WEEKDAYS[d] for d in sorted(calendar.days)],
                "hours": _hours_document(calendar.hours),
                "weekday_hours": {
                    WEEKDAYS[day]: _hours_document(hours) for day, hours in calendar.weekday_hours
                },
                "exceptions": {
                    day.isoformat(): _hours_document(hours) if hours else "closed"
                    for day, hours in calendar.exceptions
                },
                "shortened_before_holidays_minutes": int(
                    calendar.shortened_before_holidays.total_seconds() // 60
                ),
                "holidays": calendar.holidays_country,
                "description": calendar_name(calendar),
            }
            for calendar in catalog.calendars.values()
        ],
        "sla_targets": [
            {
                "code": target.code,
                "name": text(target.name, catalog),
                "description": text(target.description, catalog),
                "applies": target.applies,
                "met_by": target.met_by,
            }
            for target in catalog.sla_targets.values()
        ],
        "plans": [_plan_document(plan, catalog) for plan in catalog.plans.values()],
        "services": [_service_document(service, catalog) for service in catalog.services.values()],
        "out_of_scope": [
            {"code": item.code, "name": text(item.name, catalog), "help": text(item.help, catalog)}
            for item in catalog.out_of_scope
        ],
        "visit_blocks_hours": list(catalog.visit_blocks),
    }


def _plan_document(plan: Plan, catalog: Catalog) -> dict:
    return {
        "code": plan.code,
        "name": text(plan.name, catalog),
        "description": text(plan.description, catalog),
        "pricing": plan.pricing,
        "archived": plan.archived,
        "calendar": plan.calendar,
        "default_term": plan.default_term.code if plan.default_term else None,
        "terms": [
            {
                "code": term.code,
                "name": term_name(term),
                "price": money(offer.price),
                "loyalty_price": money(plan.loyalty.get(term)),
                "renewal_only": offer.renewal_only,
                "renewal_discount_percent": money(offer.discount_percent)
                if offer.discount_percent
                else None,
            }
            for term, offer in plan.terms.items()
        ],
        "unit_prices": {unit: money(price) for unit, price in plan.unit_prices.items()},
        "unit_price_per": (
            "month" if plan.pricing == "per-unit" else "request" if plan.unit_prices else None
        ),
        "billing": [
            {"code": code, "discount_percent": money(percent)}
            for code, percent in plan.billing.items()
        ],
        "default_billing": plan.default_billing,
        "licence_percent": money(plan.percent),
        "eligibility": (
            {
                "unit": plan.eligibility.unit,
                "minimum": plan.eligibility.minimum,
                "text": eligibility_words(plan, catalog),
            }
            if plan.eligibility
            else None
        ),
        # What a quote request for the plan gives (POST /callback): the counts, with questions.
        "quote_asks": [
            {"unit": unit, "question": text(question, catalog)}
            for unit, question in plan.quote_questions.items()
        ],
        "features": {
            code: _feature_value_document(value, catalog) for code, value in plan.features.items()
        },
        "sla": [
            {
                "target": promise.target,
                "clock": promise.clock,
                "within": _duration_document(promise.upper),
                "expected_within": _duration_document(promise.lower) if promise.lower else None,
                "description": sla_name(promise.upper, promise.lower),
            }
            for promise in plan.sla.values()
        ],
    }


def _duration_document(duration: Duration) -> dict:
    return {"amount": money(duration.amount), "unit": duration.unit}


def _feature_value_document(value: FeatureValue, catalog: Catalog) -> dict:
    return {
        "kind": value.kind,
        "included": value.included,
        "value": (
            value.flag
            if value.kind == "yes-no"
            else ("unlimited" if value.unlimited else money(value.quantity))
            if value.kind == "quantity"
            else _duration_document(value.duration)
            if value.kind == "duration"
            else text(value.text, catalog)
        ),
        "note": text(value.note, catalog),
    }


def _service_document(service: Service, catalog: Catalog) -> dict:
    fee = service.one_time_fee
    return {
        "code": service.code,
        "name": text(service.name, catalog),
        "description": text(service.description, catalog),
        "kind": service.kind,
        "pricing": service.pricing,
        "price": money(service.price),
        "price_per": "hour" if service.pricing == "hourly" else "item",
        "minimum_hours": money(service.minimum_hours) if service.minimum_hours else None,
        "hour_step": money(service.hour_step),
        "bundles": [{"hours": b.hours, "price": money(b.price)} for b in service.bundles],
        "one_time_fee": (
            {"code": fee.code, "name": text(fee.name, catalog), "amount": money(fee.amount)}
            if fee
            else None
        ),
    }


def _hours_document(intervals) -> str:
    """A day's intervals as a catalog file writes them: ``09:00-13:00, 14:00-18:00``."""
    return ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in intervals)
