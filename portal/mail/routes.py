"""The staff outbox: every mail the portal wrote, waiting, sent or given up, and sending again."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.accounts.access import staff_required
from portal.catalog.current import current_catalog
from portal.clock import now
from portal.extensions import db
from portal.listing import ListQuery, page_of
from portal.mail import bp, outbox
from portal.mail.services import FileMailer, SmtpMailer
from portal.models import OutboxMail


@bp.get("/staff/outbox")
@staff_required
def outbox_list():
    """The outbox, newest first, a page at a time: by state, and searched by recipient and
    subject. Says where mail goes: an SMTP server, or ``.eml`` files."""
    catalog = current_catalog()
    asked = ListQuery.from_args(request.args, {"status": outbox.LIST_STATES})
    page = page_of(db.session, outbox.listed(asked.filters["status"], asked.search), asked)
    mailer = current_app.extensions["mailer"]
    return render_template(
        "mail/outbox.html",
        page=page,
        counts=outbox.counts(db.session),
        smtp=mailer if isinstance(mailer, SmtpMailer) else None,
        folder=mailer.directory if isinstance(mailer, FileMailer) else None,
        timezone=catalog.timezone,
    )


@bp.get("/staff/outbox/<id:mail_id>")
@staff_required
def message(mail_id: int):
    """One mail: its headers, its state and last error, and its text."""
    catalog = current_catalog()
    found = db.session.get(OutboxMail, mail_id)
    if found is None:
        abort(404)
    mailer = current_app.extensions["mailer"]
    return render_template(
        "mail/message.html",
        mail=found,
        timezone=catalog.timezone,
        # A sign-in link is its reader's: staff read it only where the mail is a file
        # they could open anyway (no mail server: the embedded default).
        text_shown=not found.private or mailer.keeps_copy,
        can_send_again=outbox.kept(found),
    )


@bp.post("/staff/outbox/<id:mail_id>/send")
@staff_required
def send_again(mail_id: int):
    """Send a mail again now: one that waits or was given up on, or a copy of one sent."""
    current_catalog()
    retry = current_app.extensions["outbox"].retry
    try:
        sent = outbox.send_again(db.session, mail_id, now(), retry)
    except outbox.NotKept:
        flash(
            _(
                "This mail carried a sign-in link, which is not kept once sent. The client "
                "asks for a new link (Forgot your password, No mail?), or is invited again."
            ),
            "error",
        )
        return redirect(url_for("mail.message", mail_id=mail_id), 303)
    if sent is None:
        abort(404)
    if sent.id != mail_id:
        flash(_("A copy of the mail to %(email)s is on its way.", email=sent.to_address))
    else:
        flash(_("The mail to %(email)s is on its way again.", email=sent.to_address))
    return redirect(url_for("mail.message", mail_id=sent.id), 303)
