"""``flask billing remind|reconcile|expire-invoices``: billing's periodic jobs, run once by hand.

The worker runs the same jobs on schedule (``portal.billing.jobs``); each is safe to
run again, and a run by hand is recorded like the worker's.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.jobs.cli import run_job_by_hand

billing_cli = click.Group("billing", help="Renewal reminders, Stripe reconciliation, invoices.")


@billing_cli.command("remind")
@with_appcontext
def remind() -> None:
    """Mail renewal reminders 30, 7 and 1 days before periods end; each one once."""
    run_job_by_hand("billing.remind")


@billing_cli.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Ask Stripe about orders still awaiting a card payment and fulfil the paid ones."""
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        raise click.ClickException("STRIPE_SECRET_KEY is not set: there is no Stripe to ask")
    run_job_by_hand("billing.reconcile")


@billing_cli.command("price-notices")
@with_appcontext
def price_notices() -> None:
    """Tell clients whose renewal price the newest catalog version changes, once each."""
    run_job_by_hand("billing.price-notices")


@billing_cli.command("expire-invoices")
@with_appcontext
def expire_invoices() -> None:
    """Expire invoices unpaid after their due date and cancel their orders."""
    run_job_by_hand("billing.expire-invoices")
