"""Work's periodic jobs: the month-end settlement with its acts, and the monthly report's mail.

Each is a few lines over an idempotent use case, whose tables decide whether there is
work: a month is settled once per organization, an act issued once, a report mailed
once. They run daily and hourly, so a worker that was down at the turn of the month
makes the month good when it starts.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.billing.presentation import labels_for
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.extensions import db
from portal.jobs import Outcome, Schedule, job
from portal.plans.worktime import month_of, previous_month
from portal.work import acts, reports, settlement
from portal.work.presentation import (
    act_mails,
    extra_time_mails,
    extra_time_titles,
    report_mails,
)
from portal.work.worklog import counts_time


def run_month_end(month: date | None = None) -> Outcome:
    """Settle ``month`` (default: last month) and issue its acts, each once."""
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    month = month or previous_month(month_of(today))
    lines = []
    settled = []
    if counts_time(catalog):
        settled = settlement.settle_month(
            db.session,
            catalog,
            month,
            today=today,
            now=now(),
            labels=labels_for(catalog, None),
            titles=extra_time_titles(catalog),
            due_days=current_app.config["INVOICE_DUE_DAYS"],
            mails=extra_time_mails,
            outbox=current_app.extensions["outbox"],
        )
        lines += [
            f"organization {s.organization_id}: {s.settlement.extra_minutes} extra minute(s)"
            + (f", order {s.order.id} ({s.order.total} {s.order.currency})" if s.order else "")
            for s in settled
            if s.order is not None
        ]
    issued = acts.issue_acts(
        db.session,
        catalog,
        month,
        today=today,
        now=now(),
        mails=act_mails,
        outbox=current_app.extensions["outbox"],
    )
    lines += [f"organization {a.organization_id}: act {a.number} ({a.total})" for a in issued]
    charged = sum(1 for s in settled if s.order is not None)
    return Outcome(
        f"{month:%Y-%m}: {len(settled)} organization(s) settled, {charged} charged extra "
        f"time, {len(issued)} act(s)",
        tuple(lines),
    )


@job("work.month-end", label=_l("Month end: extra time and acts"), schedule=Schedule.daily(0, 20))
def month_end() -> Outcome:
    """Settle last month's time (extra time invoiced) and issue its acts, once."""
    return run_month_end()


def run_reports() -> Outcome:
    catalog = current_catalog()
    sent = reports.mail_reports(
        db.session,
        catalog,
        today=today_in(catalog.timezone),
        now=now(),
        mails=report_mails,
        outbox=current_app.extensions["outbox"],
    )
    return Outcome(
        f"{len(sent)} monthly report(s) mailed",
        tuple(f"organization {m.organization_id}: {m.recipients} recipient(s)" for m in sent),
    )


@job("work.reports", label=_l("Monthly reports by mail"), schedule=Schedule.hourly(40))
def monthly_reports() -> Outcome:
    """Mail last month's report to contracts with the report unit, from the first working day."""
    return run_reports()
