"""Staff's side of time: log it on a ticket or an organization, take back a mistake, and hold
remote sessions from a day plan (log their time, close and invoice them)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.access import staff_required
from portal.billing.presentation import labels_for
from portal.catalog.current import current_catalog
from portal.catalog.wording import error_message
from portal.clock import now, today_in
from portal.extensions import db
from portal.listing import ListQuery, page_of
from portal.models import Organization, RemoteSession, Ticket, TimeEntry
from portal.plans import PlanError
from portal.plans.requests import parse_date
from portal.plans.worktime import parse_duration, session_calendar
from portal.work import bp, sessions, worklog
from portal.work.forms import TimeEntryForm
from portal.work.presentation import (
    duration,
    session_mails,
    session_titles,
    work_error_message,
)


def _logged(form: TimeEntryForm, organization_id: int, **link) -> TimeEntry | None:
    """Log the form's time for the organization; None (errors set beside the fields) when
    something is wrong."""
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    if not form.validate():
        return None
    try:
        minutes = parse_duration(form.duration.data, "duration")
    except PlanError as error:
        form.duration.errors = [error_message(error)]
        return None
    try:
        worked_on = parse_date(form.worked_on.data, "worked_on") if form.worked_on.data else today
    except PlanError as error:
        form.worked_on.errors = [error_message(error)]
        return None
    try:
        entry = worklog.log_time(
            db.session,
            organization_id=organization_id,
            catalog=catalog,
            user_id=current_user.id,
            minutes=minutes,
            worked_on=worked_on,
            description=form.description.data,
            billable=form.billable.data,
            today=today,
            now=now(),
            submission_key=form.submission.data,
            **link,
        )
    except worklog.WorkError as error:
        getattr(form, error.field or "description").errors = [work_error_message(error)]
        return None
    return entry


@bp.post("/staff/tickets/<id:ticket_id>/time")
@staff_required
def ticket_time(ticket_id: int):
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    form = TimeEntryForm()
    entry = _logged(form, ticket.organization_id, ticket_id=ticket.id)
    if entry is None:
        from portal.tickets.routes import _response, ticket_context

        return _response(
            render_template("tickets/ticket.html", **ticket_context(ticket), time_form=form), 422
        )
    flash(_("%(time)s logged.", time=duration(entry.minutes)))
    return redirect(url_for("tickets.ticket", ticket_id=ticket.id) + "#ticket-time", 303)


@bp.post("/staff/organizations/<id:organization_id>/time")
@staff_required
def organization_time(organization_id: int):
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        abort(404)
    form = TimeEntryForm()
    entry = _logged(form, organization.id)
    if entry is None:
        flash(" ".join(e for f in form for e in f.errors), "error")
    else:
        flash(_("%(time)s logged.", time=duration(entry.minutes)))
    return redirect(
        url_for("accounts.staff_organization", organization_id=organization.id) + "#time", 303
    )


@bp.post("/staff/time/<id:entry_id>/remove")
@staff_required
def remove_time(entry_id: int):
    entry = db.session.get(TimeEntry, entry_id)
    if entry is None:
        abort(404)
    back = request.form.get("back") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("accounts.staff_organization", organization_id=entry.organization_id)
    try:
        worklog.remove_entry(db.session, entry)
    except worklog.WorkError as error:
        flash(work_error_message(error), "error")
        return redirect(back, 303)
    flash(_("The entry is removed."))
    return redirect(back, 303)


# --- sessions --------------------------------------------------------------------------------


def _day_arg(catalog) -> date:
    value = request.args.get("day", "")
    if not value:
        return today_in(catalog.timezone)
    try:
        return parse_date(value, "day")
    except PlanError:
        abort(404)


@bp.get("/staff/sessions")
@staff_required
def day_plan():
    catalog = current_catalog()
    calendar = session_calendar(catalog)
    if calendar is None:
        abort(404)
    day = _day_arg(catalog)
    zone = ZoneInfo(calendar.timezone)
    start = datetime.combine(day, time(0), zone)
    booked = sessions.day_plan(db.session, catalog, start, start + timedelta(days=1))
    asked = ListQuery.from_args(request.args)
    page = page_of(db.session, sessions.waiting_backups(catalog.code), asked)
    return render_template(
        "work/staff_day.html",
        catalog=catalog,
        day=day,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        booked=booked,
        waiting=page.items,
        page=page,
        zone=calendar.timezone,
    )


def _staff_session(session_id: int) -> RemoteSession:
    row = db.session.get(RemoteSession, session_id)
    if row is None:
        abort(404)
    return row


def _session_page(row: RemoteSession, form=None, status=200):
    catalog = current_catalog()
    calendar = session_calendar(catalog)
    zone = calendar.timezone if calendar else catalog.timezone
    return (
        render_template(
            "work/staff_session.html",
            session_day=row.starts_at.astimezone(ZoneInfo(zone)).date() if row.starts_at else None,
            catalog=catalog,
            row=row,
            service=catalog.services.get(row.service),
            entries=list(db.session.scalars(worklog.entries_of(session_id=row.id).limit(100))),
            minutes=sessions.session_minutes(db.session, row.id),
            form=form or TimeEntryForm(formdata=None).setup(),
            zone=zone,
        ),
        status,
    )


@bp.get("/staff/sessions/<id:session_id>")
@staff_required
def staff_session(session_id: int):
    return _session_page(_staff_session(session_id))


@bp.post("/staff/sessions/<id:session_id>/time")
@staff_required
def session_time(session_id: int):
    row = _staff_session(session_id)
    if row.status != "booked":
        flash(work_error_message(worklog.WorkError("session_closed")), "error")
        return redirect(url_for("work.staff_session", session_id=row.id), 303)
    form = TimeEntryForm()
    entry = _logged(form, row.organization_id, session_id=row.id)
    if entry is None:
        return _session_page(row, form, 422)
    flash(_("%(time)s logged.", time=duration(entry.minutes)))
    return redirect(url_for("work.staff_session", session_id=row.id), 303)


@bp.post("/staff/sessions/<id:session_id>/complete")
@staff_required
def complete_session(session_id: int):
    """Close the session and invoice the time spent, priced by the engine."""
    row = _staff_session(session_id)
    catalog = current_catalog()
    day = (row.starts_at or now()).astimezone(ZoneInfo(catalog.timezone)).date()
    try:
        order = sessions.complete_session(
            db.session,
            row,
            catalog=catalog,
            labels=labels_for(catalog, None),
            titles=session_titles(catalog, row.service, day),
            today=today_in(catalog.timezone),
            now=now(),
            due_days=current_app.config["INVOICE_DUE_DAYS"],
            mail=session_mails,
            outbox=current_app.extensions["outbox"],
        )
    except worklog.WorkError as error:
        flash(work_error_message(error), "error")
        return redirect(url_for("work.staff_session", session_id=row.id), 303)
    flash(_("The session is closed; its order is %(number)s.", number=order.id))
    return redirect(url_for("work.staff_session", session_id=row.id), 303)
