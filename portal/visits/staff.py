"""Staff's side of visits: technicians' day plans, the dispatch queue, a visit's page (move,
cancel, mark made), planned visits, technicians and their time off. Staff only: clients
get 404, as for every staff page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.access import staff_required
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.converters import row_id
from portal.extensions import db
from portal.models import Technician, TechnicianTimeOff, Visit
from portal.plans.visits import REGIONS
from portal.visits import booking, bp
from portal.visits.booking import (
    PlannedVisit,
    TechnicianDetails,
    VisitError,
    add_time_off,
    assign_visit,
    cancel_visit,
    change_requests,
    complete_visit,
    day_plan,
    dispatch_queue,
    move_visit,
    plan_visit,
    planned_clients,
    technician_candidates,
    technician_problems,
    technicians_of,
    upcoming_time_off,
)
from portal.visits.forms import AssignForm, PlannedVisitForm, TechnicianForm, TimeOffForm
from portal.visits.presentation import region_label, visit_error_message, visit_mails


def _catalog():
    catalog = current_catalog()
    if catalog.visits.calendar is None:
        abort(404)
    return catalog


# Staff plan within ten years either side of today: further is a typing mistake.
DAY_RANGE = timedelta(days=3653)


def _bounded(catalog, day: date | None) -> date | None:
    today = today_in(catalog.timezone)
    return day if day is not None and abs(day - today) <= DAY_RANGE else None


def _date(catalog, text: str | None) -> date | None:
    try:
        return _bounded(catalog, date.fromisoformat(text or ""))
    except ValueError:
        return None


def _day_arg(catalog) -> date:
    return _date(catalog, request.args.get("day")) or today_in(catalog.timezone)


def _technician_choices(catalog, technicians=None):
    if technicians is None:
        technicians = technicians_of(db.session, catalog.code)
    return [(str(t.id), f"{t.user.name} ({region_label(catalog, t.region)})") for t in technicians]


def _at(catalog, day_text: str, start_text: str) -> datetime | None:
    """A day and a time typed by staff, in the catalog's zone."""
    day = _date(catalog, day_text)
    try:
        start = time.fromisoformat(start_text)
    except ValueError:
        return None
    return datetime.combine(day, start, ZoneInfo(catalog.timezone)) if day else None


def _mail_args(catalog):
    return {"mail": visit_mails(catalog), "outbox": current_app.extensions["outbox"]}


@bp.get("/staff/visits")
@staff_required
def staff_day():
    catalog = _catalog()
    day = _day_arg(catalog)
    return _day_page(catalog, day)


def _day_page(catalog, day, status=200, assign_errors=None, planned_form=None):
    plan = day_plan(db.session, catalog, day)
    technicians = _technician_choices(catalog, [technician for technician, _items in plan])
    planned_form = planned_form or PlannedVisitForm(formdata=None)
    if catalog.visits.planned:
        today = today_in(catalog.timezone)
        planned_form.organization_id.choices = [
            (str(i), name) for i, name in planned_clients(db.session, catalog, today)
        ]
        planned_form.technician_id.choices = technicians
    return (
        render_template(
            "visits/staff_day.html",
            catalog=catalog,
            day=day,
            previous=day - timedelta(days=1),
            following=day + timedelta(days=1),
            plan=plan,
            queue=dispatch_queue(db.session, catalog),
            changes=change_requests(db.session, catalog),
            technicians=technicians,
            assign_errors=assign_errors or {},
            planned_form=planned_form,
            zone=catalog.timezone,
        ),
        status,
    )


def _staff_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    return visit


@bp.post("/staff/visits/<id:visit_id>/assign")
@staff_required
def assign(visit_id: int):
    catalog = _catalog()
    visit = _staff_visit(visit_id)
    form = AssignForm()
    starts_at = _at(catalog, form.day.data or "", form.start.data or "")
    day = today_in(catalog.timezone)
    if not form.validate() or starts_at is None:
        return _day_page(catalog, day, 422, {visit.id: _("Give the day and the start time.")})
    technician_id = row_id(form.technician_id.data)
    if technician_id is None:
        return _day_page(
            catalog, day, 422, {visit.id: visit_error_message(VisitError("unknown_technician"))}
        )
    try:
        assign_visit(
            db.session,
            visit.id,
            technician_id,
            starts_at,
            catalog=catalog,
            now=now(),
            **_mail_args(catalog),
        )
    except VisitError as error:
        return _day_page(catalog, day, 409, {visit.id: visit_error_message(error)})
    flash(_("The visit is booked and the client has the calendar file."))
    return redirect(url_for("visits.staff_day", day=starts_at.date().isoformat()), 303)


@bp.post("/staff/visits/planned")
@staff_required
def plan():
    catalog = _catalog()
    if not catalog.visits.planned:
        abort(404)
    form = PlannedVisitForm()
    day = today_in(catalog.timezone)
    starts_at = _at(catalog, form.day.data or "", form.start.data or "")
    valid = form.validate()
    if starts_at is None:
        form.start.errors = [_("Give the day and the start time.")]
        valid = False
    organization_id = row_id(form.organization_id.data)
    technician_id = row_id(form.technician_id.data)
    try:
        hours = int(form.hours.data or "")
    except ValueError:
        hours = 0
    if not 1 <= hours <= 12:
        form.hours.errors = [visit_error_message(VisitError("invalid_hours"))]
        valid = False
    if organization_id is None:
        form.organization_id.errors = [visit_error_message(VisitError("not_planned"))]
        valid = False
    if technician_id is None:
        form.technician_id.errors = [visit_error_message(VisitError("unknown_technician"))]
        valid = False
    if not valid:
        return _day_page(catalog, day, 422, planned_form=form)
    try:
        visit = plan_visit(
            db.session,
            PlannedVisit(
                organization_id=organization_id,
                technician_id=technician_id,
                starts_at=starts_at,
                hours=hours,
                address=form.address.data,
                purpose=form.purpose.data,
            ),
            catalog=catalog,
            user_id=current_user.id,
            now=now(),
            **_mail_args(catalog),
        )
    except VisitError as error:
        field = {"starts_at": "start", "technician_id": "technician_id"}.get(error.field or "")
        target = getattr(form, field or error.field or "", None) or form.organization_id
        target.errors = [visit_error_message(error)]
        return _day_page(
            catalog, day, 409 if error.code == "slot_taken" else 422, planned_form=form
        )
    flash(_("The planned visit is booked and the client has the calendar file."))
    return redirect(url_for("visits.staff_visit", visit_id=visit.id), 303)


@bp.get("/staff/visits/<id:visit_id>")
@staff_required
def staff_visit(visit_id: int):
    catalog = _catalog()
    return _visit_page(catalog, _staff_visit(visit_id))


def _visit_page(catalog, visit, status=200, notice=None):
    form = AssignForm(formdata=None)
    form.technician_id.choices = _technician_choices(catalog)
    if visit.technician_id:
        form.technician_id.data = str(visit.technician_id)
    return (
        render_template(
            "visits/staff_visit.html",
            catalog=catalog,
            visit=visit,
            visit_day=(
                visit.starts_at.astimezone(ZoneInfo(catalog.timezone)).date().isoformat()
                if visit.starts_at
                else None
            ),
            form=form,
            notice=notice,
            zone=catalog.timezone,
        ),
        status,
    )


@bp.post("/staff/visits/<id:visit_id>/move")
@staff_required
def staff_move(visit_id: int):
    catalog = _catalog()
    visit = _staff_visit(visit_id)
    form = AssignForm()
    starts_at = _at(catalog, form.day.data or "", form.start.data or "")
    if starts_at is None:
        return _visit_page(catalog, visit, 422, _("Give the day and the start time."))
    technician_id = row_id(form.technician_id.data) or visit.technician_id
    if technician_id is None:
        error = VisitError("unknown_technician")
        return _visit_page(catalog, visit, 422, visit_error_message(error))
    try:
        if visit.status == "requested":
            assign_visit(
                db.session,
                visit.id,
                technician_id,
                starts_at,
                catalog=catalog,
                now=now(),
                **_mail_args(catalog),
            )
        else:
            move_visit(
                db.session,
                visit.id,
                starts_at,
                catalog=catalog,
                now=now(),
                by_staff=True,
                technician_id=technician_id,
                **_mail_args(catalog),
            )
    except VisitError as error:
        return _visit_page(catalog, _staff_visit(visit_id), 409, visit_error_message(error))
    flash(_("The visit is moved; the client and the technician have the new calendar file."))
    return redirect(url_for("visits.staff_visit", visit_id=visit_id), 303)


def _staff_change(visit_id: int, change, done: str):
    """Run ``change(visit_id)`` for staff; back to the visit with ``done``, or with why not."""
    catalog = _catalog()
    visit = _staff_visit(visit_id)
    try:
        change(catalog, visit.id)
    except VisitError as error:
        return _visit_page(catalog, _staff_visit(visit_id), 409, visit_error_message(error))
    flash(done)
    return redirect(url_for("visits.staff_visit", visit_id=visit_id), 303)


@bp.post("/staff/visits/<id:visit_id>/cancel")
@staff_required
def staff_cancel(visit_id: int):
    return _staff_change(
        visit_id,
        lambda catalog, vid: cancel_visit(
            db.session, vid, catalog=catalog, now=now(), by_staff=True, **_mail_args(catalog)
        ),
        _("The visit is cancelled; the client and the technician are told."),
    )


@bp.post("/staff/visits/<id:visit_id>/done")
@staff_required
def staff_done(visit_id: int):
    return _staff_change(
        visit_id,
        lambda _catalog, vid: complete_visit(db.session, vid, now=now()),
        _("The visit is marked as made."),
    )


# --- technicians and their time off ----------------------------------------------------------


def _technicians_page(catalog, form=None, time_off_form=None, status=200):
    technicians = technicians_of(db.session, catalog.code)
    form = form or TechnicianForm(formdata=None)
    form.user_id.choices = [
        (str(u.id), f"{u.name} <{u.email}>") for u in technician_candidates(db.session)
    ]
    form.region.choices = [(r, region_label(catalog, r)) for r in REGIONS]
    return (
        render_template(
            "visits/technicians.html",
            catalog=catalog,
            technicians=technicians,
            away=upcoming_time_off(db.session, [t.id for t in technicians], now()),
            form=form,
            time_off_form=time_off_form or TimeOffForm(formdata=None),
            zone=catalog.timezone,
        ),
        status,
    )


@bp.get("/staff/technicians")
@staff_required
def technicians():
    return _technicians_page(_catalog())


@bp.post("/staff/technicians")
@staff_required
def add_technician():
    catalog = _catalog()
    form = TechnicianForm()
    details = TechnicianDetails(
        user_id=row_id(form.user_id.data),
        region=form.region.data or "",
        days=form.days.data or "",
        hours=form.hours.data or "",
        timezone=form.timezone.data or "",
        holidays=form.holidays.data or "",
    )
    problems = technician_problems(db.session, details)
    valid = form.validate() and not problems
    for field, code in problems.items():
        getattr(form, field).errors = [visit_error_message(VisitError(code))]
    if not valid:
        return _technicians_page(catalog, form, status=422)
    try:
        booking.add_technician(db.session, catalog, details, now=now())
    except VisitError as error:  # made a technician a moment ago, in another tab
        getattr(form, error.field).errors = [visit_error_message(error)]
        return _technicians_page(catalog, form, status=409)
    flash(_("The technician is added: their free blocks are offered to clients now."))
    return redirect(url_for("visits.technicians"), 303)


@bp.post("/staff/technicians/<id:technician_id>/time-off")
@staff_required
def time_off(technician_id: int):
    catalog = _catalog()
    technician = db.session.get(Technician, technician_id)
    if technician is None or technician.catalog != catalog.code:
        abort(404)
    form = TimeOffForm()
    zone = ZoneInfo(catalog.timezone)
    first = _date(catalog, form.starts_on.data)
    last = _date(catalog, form.ends_on.data)
    if first is None or last is None:
        form.starts_on.errors = [_("Give the first and the last day away.")]
        return _technicians_page(catalog, time_off_form=form, status=422)
    try:
        add_time_off(
            db.session,
            technician.id,
            datetime.combine(first, time(0), zone),
            datetime.combine(last + timedelta(days=1), time(0), zone),
            form.note.data,
            now=now(),
        )
    except VisitError as error:
        form.ends_on.errors = [visit_error_message(error)]
        return _technicians_page(catalog, time_off_form=form, status=422)
    flash(_("The time off is noted: no visit is offered then."))
    return redirect(url_for("visits.technicians"), 303)


@bp.post("/staff/time-off/<id:row_id>/remove")
@staff_required
def remove_time_off(row_id: int):
    catalog = _catalog()
    row = db.session.get(TechnicianTimeOff, row_id)
    if row is None:
        abort(404)
    db.session.delete(row)
    db.session.commit()
    del catalog
    flash(_("The time off is removed."))
    return redirect(url_for("visits.technicians"), 303)
