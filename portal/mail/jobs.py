"""The mail delivery job: after each commit that put mail, and every minute for retries."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.clock import now
from portal.extensions import db
from portal.jobs import Outcome, Schedule, job
from portal.mail.outbox import deliver_due, prune


@job("mail.deliver", label=_l("Mail delivery"), schedule=Schedule.every_minute(), on_demand=True)
def deliver() -> Outcome:
    """Send the mail that is due: new mail, and mail whose next attempt has come."""
    outbox = current_app.extensions["outbox"]
    report = deliver_due(db.session, current_app.extensions["mailer"], now, outbox.retry)
    return Outcome(report.summary())


@job("mail.prune", label=_l("Old mail clean-up"), schedule=Schedule.daily(3, 30))
def forget_old_mail() -> Outcome:
    """Forget mail sent over MAIL_KEEP_DAYS ago (given up: three times as long)."""
    keep = timedelta(days=current_app.config["MAIL_KEEP_DAYS"])
    return Outcome(f"{prune(db.session, now(), keep)} mail(s) forgotten")
