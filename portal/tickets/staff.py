"""Staff's tickets: the queue, filing for a client who phoned, and the ticket's controls
(status, assignee, the defect path, the plan)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.access import staff_required
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.extensions import db
from portal.listing import ListQuery, page_of
from portal.models import Organization
from portal.plans import PlanError
from portal.tickets import bp, filing, queries, workflow
from portal.tickets.attachments import AttachmentRefused
from portal.tickets.forms import StaffTicketForm
from portal.tickets.presentation import (
    STAFF_STATUS_LABELS,
    catalog_of,
    file_policy,
    ticket_error_message,
)
from portal.tickets.routes import (
    _response,
    _row,
    form_context,
    organization_plan,
    refusal_beside_field,
    uploads_of,
    visible_ticket,
)


def _queue_filters(catalog) -> dict:
    members = queries.staff_members(db.session)
    return {
        "status": queries.STATUS_FILTER,
        "due": queries.DUE_FILTER,
        "plan": ("any", *catalog.plans, "none"),
        "assignee": ("any", "me", "none", *(str(m.id) for m in members)),
    }, members


# The queue counts its tickets this far: staff narrow a longer one with its filters.
QUEUE_COUNT_LIMIT = 1000


@bp.get("/staff/tickets")
@staff_required
def queue():
    """Every organization's tickets, the nearest due first, a page at a time, filtered."""
    catalog = current_catalog()
    filters, members = _queue_filters(catalog)
    asked = ListQuery.from_args(request.args, filters)
    moment = now()
    page = page_of(
        db.session,
        queries.queue(dict(asked.filters), asked.search, moment, current_user.id),
        asked,
        count_limit=QUEUE_COUNT_LIMIT,
    )
    rows = [_row(ticket, moment, catalog.timezone) for ticket in page.items]
    return _response(
        render_template(
            "tickets/staff_queue.html",
            rows=rows,
            page=page,
            asked=asked,
            catalog=catalog,
            members=members,
            status_labels=STAFF_STATUS_LABELS,
        )
    )


# --- filing for a caller ----------------------------------------------------------------------


def _organization(organization_id: int) -> Organization:
    found = db.session.get(Organization, organization_id)
    if found is None:
        abort(404)
    return found


def _local_now(zone: str) -> str:
    return now().astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _staff_form_page(catalog, organization, form, status=200):
    active, plan = organization_plan(catalog, organization)
    context = form_context(catalog, form, plan, active)
    page = render_template(
        "tickets/staff_new.html", organization=organization, zone=catalog.timezone, **context
    )
    return _response(page, status)


@bp.get("/staff/organizations/<id:organization_id>/tickets/new")
@staff_required
def new_for_caller(organization_id: int):
    catalog = current_catalog()
    organization = _organization(organization_id)
    _active, plan = organization_plan(catalog, organization)
    form = StaffTicketForm(formdata=None, called_at=_local_now(catalog.timezone))
    return _staff_form_page(catalog, organization, form.setup(catalog, plan))


def read_call_time(typed: str, zone: str) -> datetime | None:
    """``2026-12-04T16:30`` (a datetime-local field, or typed with a space) in ``zone``."""
    try:
        local = datetime.fromisoformat(typed.replace(" ", "T"))
    except ValueError:
        return None
    if local.tzinfo is not None:
        return local
    return local.replace(tzinfo=ZoneInfo(zone))


@bp.post("/staff/organizations/<id:organization_id>/tickets")
@staff_required
def file_for_caller(organization_id: int):
    catalog = current_catalog()
    organization = _organization(organization_id)
    _active, plan = organization_plan(catalog, organization)
    form = StaffTicketForm().setup(catalog, plan)
    if not form.validate():
        return _staff_form_page(catalog, organization, form, 422)
    called_at = read_call_time(form.called_at.data, catalog.timezone)
    if called_at is None:
        form.called_at.errors = [ticket_error_message(filing.TicketError("call_time_invalid"))]
        return _staff_form_page(catalog, organization, form, 422)
    details = filing.TicketDetails(
        title=form.title.data,
        description=form.description.data,
        category=form.category.data,
        target=form.target.data if form.category.data == "support" else None,
        remote_access=form.remote_access.data,
        contact_phone=form.contact_phone.data,
    )
    try:
        ticket = filing.file_ticket(
            db.session,
            catalog,
            organization,
            details,
            opened_by=None,
            filed_by=current_user,
            called_at=called_at,
            now=now(),
            today=today_in(catalog.timezone),
            files=file_policy(),
            uploads=uploads_of(),
            submission_key=f"{current_user.id}:{form.submission.data}",
        )
    except (PlanError, filing.TicketError, AttachmentRefused) as error:
        refusal_beside_field(form, error)
        return _staff_form_page(catalog, organization, form, 422)
    flash(_("The ticket is registered as of the call."))
    return redirect(url_for("tickets.ticket", ticket_id=ticket.id), 303)


# --- a ticket's controls ----------------------------------------------------------------------


def _back(ticket_id: int):
    return redirect(url_for("tickets.ticket", ticket_id=ticket_id, _anchor="staff-controls"), 303)


def _refused(ticket_id: int, error) -> object:
    message = ticket_error_message(error) if isinstance(error, filing.TicketError) else None
    if message is None:
        from portal.catalog.wording import error_message

        message = error_message(error)
    flash(message, "error")
    return _back(ticket_id)


@bp.post("/staff/tickets/<id:ticket_id>/status")
@staff_required
def set_status(ticket_id: int):
    found = visible_ticket(ticket_id)
    current_catalog()
    status = request.form.get("status", "")
    try:
        workflow.set_status(db.session, catalog_of(found), found, current_user, status, now())
    except filing.TicketError as error:
        return _refused(found.id, error)
    flash(_("Status: %(status)s.", status=STAFF_STATUS_LABELS.get(found.status, found.status)))
    return _back(found.id)


@bp.post("/staff/tickets/<id:ticket_id>/assignee")
@staff_required
def assign(ticket_id: int):
    found = visible_ticket(ticket_id)
    current_catalog()
    chosen = request.form.get("assignee", "")
    if chosen and not chosen.isdigit():
        return _refused(found.id, filing.TicketError("assignee_unknown"))
    try:
        workflow.assign(db.session, found, current_user, int(chosen) if chosen else None, now())
    except filing.TicketError as error:
        return _refused(found.id, error)
    flash(_("The assignee is saved."))
    return _back(found.id)


@bp.post("/staff/tickets/<id:ticket_id>/defect")
@staff_required
def confirm_defect(ticket_id: int):
    found = visible_ticket(ticket_id)
    current_catalog()
    try:
        workflow.confirm_defect(db.session, catalog_of(found), found, current_user, now())
    except filing.TicketError as error:
        return _refused(found.id, error)
    flash(_("The defect is confirmed: the fix date is due."))
    return _back(found.id)


@bp.post("/staff/tickets/<id:ticket_id>/fix-date")
@staff_required
def fix_date(ticket_id: int):
    found = visible_ticket(ticket_id)
    catalog = current_catalog()
    try:
        day = date.fromisoformat(request.form.get("fix_date", "").strip())
    except ValueError:
        flash(_("Give the fix date as a date."), "error")
        return _back(found.id)
    try:
        workflow.record_fix_date(
            db.session,
            catalog_of(found),
            found,
            current_user,
            day,
            today_in(catalog.timezone),
            now(),
        )
    except filing.TicketError as error:
        return _refused(found.id, error)
    flash(_("The fix date is saved."))
    return _back(found.id)


@bp.post("/staff/tickets/<id:ticket_id>/plan")
@staff_required
def change_plan(ticket_id: int):
    """Run the ticket on another plan of the catalog in effect (the client changed plans)."""
    found = visible_ticket(ticket_id)
    catalog = current_catalog()
    plan = request.form.get("plan", "").strip() or None
    target = request.form.get("target", "").strip() or None
    try:
        workflow.change_plan(db.session, catalog, found, current_user, plan, target, now())
    except (filing.TicketError, PlanError) as error:
        db.session.rollback()
        return _refused(found.id, error)
    flash(_("The plan is changed: due times are computed again from the pause history."))
    return _back(found.id)
