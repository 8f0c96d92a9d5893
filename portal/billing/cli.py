"""``flask billing remind|reconcile|expire-invoices``: the jobs a scheduler runs daily."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.billing import services
from portal.billing.gateway import PaymentUnavailable
from portal.billing.presentation import gateway, send_reminder_mail
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.extensions import db
from portal.mail.services import MailNotSent

billing_cli = click.Group("billing", help="Renewal reminders, Stripe reconciliation, invoices.")


def _today():
    return today_in(current_catalog().timezone)


@billing_cli.command("remind")
@with_appcontext
def remind() -> None:
    """Mail renewal reminders 30, 7 and 1 days before periods end; each one once."""
    today = _today()
    try:
        sent = services.send_reminders(
            db.session, today, now(), lambda period, _days: send_reminder_mail(period, today)
        )
    except MailNotSent as error:
        raise click.ClickException(
            f"{error}; the reminders not sent are tried on the next run"
        ) from None
    for period, days_before in sent:
        click.echo(
            f"reminded {period.organization.name}: {period.plan} ends {period.last_day} "
            f"({days_before}-day reminder)"
        )
    click.echo(f"{len(sent)} reminder(s) sent")


@billing_cli.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Ask Stripe about orders still awaiting a card payment and fulfil the paid ones."""
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        raise click.ClickException("STRIPE_SECRET_KEY is not set: there is no Stripe to ask")
    try:
        results = services.reconcile(db.session, gateway(), now())
    except PaymentUnavailable as error:
        raise click.ClickException(f"Stripe could not be asked: {error}") from None
    for order, outcome in results:
        click.echo(f"order {order.id}: {outcome}")
    click.echo(f"{len(results)} order(s) checked")


@billing_cli.command("expire-invoices")
@with_appcontext
def expire_invoices() -> None:
    """Expire invoices unpaid after their due date and cancel their orders."""
    expired = services.expire_invoices(db.session, today=_today(), now=now())
    for document in expired:
        click.echo(f"{document.number} expired; order {document.order_id} cancelled")
    click.echo(f"{len(expired)} invoice(s) expired")
