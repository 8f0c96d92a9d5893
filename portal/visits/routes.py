"""The client's on-site visits: the quota, a week of free slots, booking, the visit's page
with its calendar file, moving, cancelling and asking staff for a change.

Thin views: read the request, call :mod:`portal.visits.booking`, render. Visits are
found through the signed-in user's own organization, so another's give 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.core import get_global
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.access import client_required
from portal.billing.presentation import labels_for, not_a_payer_message
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.converters import row_id
from portal.extensions import db, htmx
from portal.headers import private
from portal.listing import ListQuery, page_of
from portal.models import OPEN_STATUSES, Ticket, Visit
from portal.plans import PlanError
from portal.plans.visits import (
    AREA,
    REGIONS,
    bookable,
    periodic_proposals,
    price_visit,
    week_start,
)
from portal.visits import bp
from portal.visits.booking import (
    VisitError,
    VisitRequest,
    ask_change,
    book_visit,
    cancel_visit,
    client_may_change,
    contract_on,
    free_slots,
    local_day,
    move_visit,
    pending_order_of,
    quota_of,
    visits_of,
)
from portal.visits.forms import ChangeForm, MoveForm, VisitForm
from portal.visits.ics import MIME_TYPE
from portal.visits.presentation import (
    KIND_LABELS,
    STATUS_LABELS,
    calendar_file,
    region_label,
    visit_error_message,
    visit_mails,
    visit_titles,
)

# How far from now a time sent by a form may be (two years: the furthest week shown is a year
# ahead, a contract year at most another).
MOMENT_RANGE = timedelta(days=731)


def _catalog():
    catalog = current_catalog()
    if not (bookable(catalog) or catalog.visits.planned):
        abort(404)
    return catalog


def _bookable_catalog():
    catalog = current_catalog()
    if not bookable(catalog):
        abort(404)
    return catalog


def _organization_id() -> int:
    return current_user.organization_id


def _own_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.organization_id != _organization_id():
        abort(404)
    return visit


def _first_weekday(catalog) -> int:
    """The provider's first day of the week (Iran: Saturday), whoever reads: the week of
    its technicians, shown the same to every client."""
    likely = get_global("likely_subtags").get(catalog.locale, catalog.locale)
    return Locale.parse(likely).first_week_day


@bp.app_context_processor
def visit_helpers() -> dict:
    return {
        "visit_kind": lambda kind: str(KIND_LABELS[kind]),
        "visit_status": lambda status: str(STATUS_LABELS[status]),
        "visit_region": lambda catalog, region: region_label(catalog, region),
        "visits_offered": lambda: bool(
            (catalog := current_catalog()) and (bookable(catalog) or catalog.visits.planned)
        ),
    }


# --- the list and the quota ------------------------------------------------------------------


@bp.get("/visits")
@client_required
def visit_list():
    catalog = _catalog()
    today = today_in(catalog.timezone)
    contract = contract_on(db.session, _organization_id(), catalog, today)
    quota = quota_of(db.session, _organization_id(), catalog, contract)
    asked = ListQuery.from_args(request.args)
    page = page_of(db.session, visits_of(_organization_id(), catalog.code), asked)
    proposals = ()
    if quota.year is not None and quota.periodic_left:
        proposals = periodic_proposals(quota.year, quota.periodic)[quota.periodic_used :]
    return private(
        render_template(
            "visits/list.html",
            catalog=catalog,
            quota=quota,
            contract=contract,
            rows=page.items,
            page=page,
            proposals=[day for day in proposals if day >= today],
            bookable=bookable(catalog),
            zone=catalog.timezone,
        )
    )


# --- booking ---------------------------------------------------------------------------------


def _choice(catalog, args):
    """The visit the page is for: block length, region, periodic, and the week shown."""
    try:
        hours = int(args.get("hours") or catalog.visit_blocks[0])
    except ValueError:
        hours = catalog.visit_blocks[0]
    if hours not in catalog.visit_blocks:
        hours = catalog.visit_blocks[0]
    region = args.get("region") if args.get("region") in REGIONS else AREA
    periodic = args.get("periodic") == "1" and region == AREA
    if periodic and catalog.visits.periodic_hours:
        hours = catalog.visits.periodic_hours
    return hours, region, periodic, _week_asked(catalog, args.get("week"))


def _week_asked(catalog, value: str | None, default: date | None = None) -> date:
    """The first day of the week asked for (``?week=``), from this week to a year ahead."""
    today = today_in(catalog.timezone)
    try:
        shown = date.fromisoformat(value or "")
    except ValueError:
        shown = default or today
    shown = min(max(shown, today), today + timedelta(days=366))
    return week_start(shown, _first_weekday(catalog))


def _week(catalog, hours, region, first_day, except_visit=None):
    slots = free_slots(
        db.session,
        catalog,
        region=region,
        hours=hours,
        first_day=first_day,
        days=7,
        now=now(),
        except_visit=except_visit,
    )
    days = {first_day + timedelta(days=n): [] for n in range(7)}
    for slot in slots:
        days[local_day(catalog, slot.start)].append(slot)
    today = today_in(catalog.timezone)
    return {
        "days": list(days.items()),
        "count": len(slots),
        "first_day": first_day,
        "previous": first_day - timedelta(days=7) if first_day > today else None,
        "following": first_day + timedelta(days=7),
    }


def _open_tickets():
    return list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.organization_id == _organization_id(), Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id.desc())
            .limit(50)
        )
    )


def _price_context(catalog, form, choice, notice=None) -> dict:
    """The price box: the quota and the price of the time chosen (its contract year
    decides), else of a visit today; no price where the catalog sets none."""
    hours, region, periodic, _first_day = choice
    chosen = _moment(form.when.data)
    day = local_day(catalog, chosen) if chosen else today_in(catalog.timezone)
    contract = contract_on(db.session, _organization_id(), catalog, day)
    quota = quota_of(db.session, _organization_id(), catalog, contract)
    try:
        priced = price_visit(catalog, quota, hours, region, periodic)
    except PlanError as error:  # no price for what is not covered: the page says to call
        priced = None
        notice = notice or visit_error_message(VisitError(error.code))
    return {"quota": quota, "contract": contract, "priced": priced, "notice": notice}


def _booking_page(catalog, form, choice, status=200, notice=None, nearest=()):
    hours, region, periodic, first_day = choice
    context = {
        "catalog": catalog,
        "form": form,
        "hours": hours,
        "region": region,
        "periodic": periodic,
        "nearest": nearest,
        "notice": notice,
        "zone": catalog.timezone,
        "chosen": form.when.data,
    }
    # htmx asks for one part: the week (another week shown) or the price (a time chosen).
    target = htmx.target if htmx and request.method == "GET" else None
    if target != "visit-price":
        context["week"] = _week(catalog, hours, region, first_day)
    if target != "visit-week":
        context.update(_price_context(catalog, form, choice, notice))
    if target == "visit-week":
        return private(render_template("visits/_week.html", **context))
    if target == "visit-price":
        return private(render_template("visits/_price.html", **context))
    form.ticket_id.choices = [("", _("None"))] + [
        (str(t.id), f"#{t.id} {t.title}") for t in _open_tickets()
    ]
    return private(render_template("visits/new.html", **context), status)


@bp.get("/visits/new")
@client_required
def new_visit():
    catalog = _bookable_catalog()
    form = VisitForm(formdata=None).setup()
    form.when.data = request.args.get("when")  # htmx asks the price of the time chosen
    return _booking_page(catalog, form, _choice(catalog, request.args))


def _moment(value: str | None):
    """A time the form sent (a block's start, with its offset), or None: anything else, or
    a time further than a year or two from now, is no time a visit can have."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        if abs(moment.astimezone(UTC) - now()) > MOMENT_RANGE:
            return None
    except OverflowError:
        return None
    return moment


@bp.post("/visits")
@client_required
def place_visit():
    catalog = _bookable_catalog()
    choice = _choice(catalog, request.form)
    hours, region, periodic, _first = choice
    form = VisitForm()
    form.setup()
    valid = form.validate()
    asap = form.when.data == "asap"
    starts_at = None if asap else _moment(form.when.data)
    if not asap and starts_at is None:
        form.when.errors = [visit_error_message(VisitError("missing_time"))]
        valid = False
    try:
        accepted = Decimal(form.accepted_total.data) if form.accepted_total.data else None
    except InvalidOperation:
        accepted = None
    if accepted is not None and not accepted.is_finite():
        accepted = None
    if accepted is not None and not form.accept.data:
        form.accept.errors = [_("Tick the box to accept the price.")]
        valid = False
    ticket_id = row_id(form.ticket_id.data) if form.ticket_id.data else None
    if form.ticket_id.data and ticket_id is None:
        form.ticket_id.errors = [visit_error_message(VisitError("unknown_ticket"))]
        valid = False
    if not valid:
        return _booking_page(catalog, form, choice, 422)
    if accepted is not None and not current_user.pays:
        abort(403, not_a_payer_message())
    asked = VisitRequest(
        hours=hours,
        region=region,
        address=form.address.data,
        purpose=form.purpose.data,
        starts_at=starts_at,
        contact_phone=form.contact_phone.data,
        ticket_id=ticket_id,
        periodic=periodic,
        accepted_total=accepted,
        submission_key=form.submission.data,
    )
    try:
        visit = book_visit(
            db.session,
            asked,
            catalog=catalog,
            organization_id=_organization_id(),
            user_id=current_user.id,
            labels=labels_for(catalog, None),
            titles=visit_titles(catalog),
            now=now(),
            mail=visit_mails(catalog),
            outbox=current_app.extensions["outbox"],
        )
    except VisitError as error:
        target = getattr(form, _FIELDS.get(error.field, ""), None)
        if target is not None:
            target.errors = [visit_error_message(error)]
        status = 409 if error.code in ("slot_taken", "price_changed") else 422
        if error.code == "slot_taken":
            form.when.data = None
        if error.code == "price_changed":
            form.accept.data = False  # a new price is accepted anew
        return _booking_page(
            catalog, form, choice, status, notice=visit_error_message(error), nearest=error.nearest
        )
    if visit.order_id is not None:
        flash(_("The visit is booked. Pay for it on this order's page."))
        return redirect(url_for("billing.order", order_id=visit.order_id), 303)
    return redirect(url_for("visits.visit_page", visit_id=visit.id), 303)


_FIELDS = {
    "starts_at": "when",
    "address": "address",
    "purpose": "purpose",
    "ticket_id": "ticket_id",
    "accept": "accept",
    "hours": "when",
    "region": "when",
    "periodic": "when",
}


# --- one visit -------------------------------------------------------------------------------


def _visit_page(catalog, visit, status=200, change_form=None, notice=None):
    return private(
        render_template(
            "visits/visit.html",
            catalog=catalog,
            visit=visit,
            order=visit.order,
            pending=pending_order_of(db.session, visit),
            changeable=client_may_change(catalog, visit, now()),
            change_until=(
                visit.starts_at - timedelta(hours=catalog.visits.change_hours)
                if visit.starts_at
                else None
            ),
            change_form=change_form or ChangeForm(formdata=None),
            notice=notice,
            zone=catalog.timezone,
        ),
        status,
    )


@bp.get("/visits/<id:visit_id>")
@client_required
def visit_page(visit_id: int):
    catalog = _catalog()
    return _visit_page(catalog, _own_visit(visit_id))


@bp.get("/visits/<id:visit_id>.ics")
@client_required
def visit_calendar(visit_id: int):
    catalog = _catalog()
    visit = _own_visit(visit_id)
    if visit.starts_at is None:
        abort(404)
    body = calendar_file(catalog, visit, method="PUBLISH", for_staff=False)
    response = private(body)
    response.headers["Content-Type"] = f"{MIME_TYPE}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="visit-{visit.id}.ics"'
    return response


@bp.post("/visits/<id:visit_id>/cancel")
@client_required
def cancel(visit_id: int):
    catalog = _catalog()
    visit = _own_visit(visit_id)
    try:
        cancel_visit(
            db.session,
            visit.id,
            catalog=catalog,
            now=now(),
            mail=visit_mails(catalog),
            outbox=current_app.extensions["outbox"],
        )
    except VisitError as error:
        return _visit_page(catalog, _own_visit(visit_id), 409, notice=visit_error_message(error))
    flash(_("The visit is cancelled; its free hours are back in your quota."))
    return redirect(url_for("visits.visit_page", visit_id=visit_id), 303)


@bp.route("/visits/<id:visit_id>/move", methods=["GET", "POST"])
@client_required
def move(visit_id: int):
    catalog = _bookable_catalog()
    visit = _own_visit(visit_id)
    if not visit.is_live or visit.starts_at is None:
        return redirect(url_for("visits.visit_page", visit_id=visit_id), 303)
    args = request.form if request.method == "POST" else request.args
    first_day = _week_asked(catalog, args.get("week"), local_day(catalog, visit.starts_at))
    form = MoveForm() if request.method == "POST" else MoveForm(formdata=None)
    notice = None
    nearest = ()
    status = 200
    if request.method == "POST":
        starts_at = _moment(form.when.data)
        if starts_at is None:
            form.when.errors = [visit_error_message(VisitError("missing_time"))]
            status = 422
        elif form.validate():
            try:
                move_visit(
                    db.session,
                    visit.id,
                    starts_at,
                    catalog=catalog,
                    now=now(),
                    mail=visit_mails(catalog),
                    outbox=current_app.extensions["outbox"],
                )
            except VisitError as error:
                notice = visit_error_message(error)
                nearest = error.nearest
                status = 409 if error.code == "slot_taken" else 422
                visit = _own_visit(visit_id)
            else:
                flash(_("The visit is moved. The new calendar file is in your mail."))
                return redirect(url_for("visits.visit_page", visit_id=visit_id), 303)
        else:
            status = 422
    week = _week(catalog, visit.hours, visit.region, first_day, except_visit=visit.id)
    context = {
        "catalog": catalog,
        "visit": visit,
        "form": form,
        "week": week,
        "notice": notice,
        "nearest": nearest,
        "zone": catalog.timezone,
        "chosen": form.when.data,
        "hours": visit.hours,
        "region": visit.region,
        "periodic": visit.kind == "periodic",
    }
    if htmx and request.method == "GET" and htmx.target == "visit-week":
        return private(render_template("visits/_week.html", **context))
    return private(render_template("visits/move.html", **context), status)


@bp.post("/visits/<id:visit_id>/change")
@client_required
def request_change(visit_id: int):
    catalog = _catalog()
    visit = _own_visit(visit_id)
    form = ChangeForm()
    if not form.validate():
        return _visit_page(catalog, visit, 422, change_form=form)
    try:
        ask_change(db.session, visit.id, form.change.data, now=now())
    except VisitError as error:
        return _visit_page(catalog, _own_visit(visit_id), 409, notice=visit_error_message(error))
    flash(_("We have your request and will call you to arrange the change."))
    return redirect(url_for("visits.visit_page", visit_id=visit_id), 303)
