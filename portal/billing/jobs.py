"""Billing's periodic jobs: the same code as ``flask billing remind|expire-invoices|reconcile``."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.billing import card, invoices, price_notices, renewals
from portal.billing.presentation import gateway, price_notice_mails, reminder_mails
from portal.catalog import services as catalogs
from portal.catalog.current import current_catalog, published_catalog
from portal.clock import now, today_in
from portal.extensions import db
from portal.jobs import Outcome, Schedule, job


@job("billing.remind", label=_l("Renewal reminders"), schedule=Schedule.daily(6, 0))
def remind() -> Outcome:
    """Mail renewal reminders 30, 7 and 1 days before periods end; each one once."""
    today = today_in(current_catalog().timezone)
    sent = renewals.send_reminders(
        db.session, today, now(), reminder_mails(today), current_app.extensions["outbox"]
    )
    lines = tuple(
        f"reminded {reminder.organization}: {reminder.plan} ends {reminder.last_day} "
        f"({reminder.days_before}-day reminder)"
        for reminder in sent
    )
    return Outcome(f"{len(sent)} reminder(s) written to the outbox", lines)


@job("billing.expire-invoices", label=_l("Expiring unpaid invoices"), schedule=Schedule.hourly(5))
def expire_invoices() -> Outcome:
    """Expire invoices unpaid after their due date and cancel their orders."""
    expired = invoices.expire_invoices(
        db.session, today=today_in(current_catalog().timezone), now=now()
    )
    lines = tuple(
        f"{document.number} expired; order {document.order_id} cancelled" for document in expired
    )
    return Outcome(f"{len(expired)} invoice(s) expired", lines)


@job(
    "billing.reconcile", label=_l("Card payments checked with Stripe"), schedule=Schedule.hourly(35)
)
def reconcile() -> Outcome:
    """Ask Stripe about orders still awaiting a card payment and fulfil the paid ones."""
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        return Outcome("no Stripe configured: nothing to ask")
    results = card.reconcile(db.session, gateway(), now())
    lines = tuple(f"order {order.id}: {outcome}" for order, outcome in results)
    return Outcome(f"{len(results)} order(s) checked", lines)


@job(
    "billing.price-notices",
    label=_l("Renewal price change notices"),
    schedule=Schedule.hourly(50),
    on_demand=True,
)
def price_change_notices() -> Outcome:
    """Tell clients whose renewal price the newest catalog version changes, once each."""
    name = published_catalog().code
    sent = price_notices.send_price_notices(
        db.session,
        name,
        now(),
        lambda version: catalogs.catalog_version(db.session, name, version),
        price_notice_mails(),
        current_app.extensions["outbox"],
    )
    lines = tuple(
        f"told {n.organization}: {n.plan} renews on {n.renews_on} at {n.new_total} "
        f"(was {n.old_total}) from v{n.version}"
        for n in sent
    )
    return Outcome(f"{len(sent)} notice(s) written to the outbox", lines)
