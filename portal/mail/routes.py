"""The staff outbox: mail the portal wrote to ``instance/outbox/`` instead of sending it."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, render_template

from portal.accounts.access import staff_required
from portal.catalog.current import current_catalog
from portal.mail import bp, services


def _outbox() -> Path:
    return Path(current_app.config["OUTBOX_DIR"])


def _smtp() -> services.SmtpMailer | None:
    mailer = current_app.extensions["mailer"]
    return mailer if isinstance(mailer, services.SmtpMailer) else None


@bp.get("/staff/outbox")
@staff_required
def outbox():
    """Messages in the outbox, newest first; says so when mail goes through SMTP instead."""
    catalog = current_catalog()
    return render_template(
        "mail/outbox.html",
        entries=services.outbox_entries(_outbox()),
        smtp=_smtp(),
        timezone=catalog.timezone,
        page_size=services.OUTBOX_PAGE_SIZE,
    )


@bp.get("/staff/outbox/<name>")
@staff_required
def message(name: str):
    """One message as text: its headers and plain-text body; 404 for any other name."""
    current_catalog()
    found = services.outbox_message(_outbox(), name)
    if found is None:
        abort(404)
    return render_template(
        "mail/message.html",
        name=name,
        message=found,
        date=found["Date"].datetime if found["Date"] is not None else None,
        text=services.text_of(found),
        timezone=current_catalog().timezone,
    )
