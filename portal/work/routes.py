"""The client's time: the meter and time log, hours bought in advance, remote connections,
paid remote sessions, one-off requests, acts and the monthly report.

Thin views: read the request, call the use cases of :mod:`portal.work`, render.
Everything is found through the signed-in user's own organization, so asking
for another's gives 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.access import client_required, sign_in_first
from portal.billing.orders import time_order
from portal.billing.presentation import labels_for, not_a_payer_message
from portal.catalog.current import current_catalog
from portal.catalog.wording import error_message
from portal.clock import now, today_in
from portal.extensions import db, htmx
from portal.headers import private
from portal.listing import ListQuery, page_of
from portal.models import Act, RemoteSession, ReportRecipient, Ticket
from portal.plans import PlanError, PlanQuoteRequest, parse_quote_request, quote
from portal.plans.worktime import (
    extra_service,
    hours_of,
    is_scheduled,
    month_of,
    parse_month,
    prepaid_offers,
    price_time,
    session_calendar,
    session_services,
)
from portal.tickets.filing import active_plan
from portal.work import acts, bp, connections, reports, sessions, worklog
from portal.work.forms import ConnectionForm, RecipientForm, SessionForm, TimeEntryForm
from portal.work.presentation import (
    act_pdf,
    backup_policy,
    category_label,
    duration,
    hours_number,
    hours_titles,
    month_name,
    report_chart,
    report_csv,
    request_titles,
    work_error_message,
)

SESSION_UPLOAD_ENDPOINTS = frozenset({"work.place_session"})


def _organization_id() -> int:
    return current_user.organization_id


def _payers_only() -> None:
    if not current_user.pays:
        abort(403, not_a_payer_message())


def allow_backups() -> None:
    """A session's order may carry a backup as large as ``SESSION_FILE_MAX_MB``: the limit is
    set before the CSRF check reads the form (see ``tickets.routes.allow_uploads``)."""
    if request.endpoint in SESSION_UPLOAD_ENDPOINTS:
        config = current_app.config
        request.max_content_length = max(
            config["MAX_CONTENT_LENGTH"], config["SESSION_FILE_MAX_BYTES"] + 2**20
        )


# --- the meter, on the account page, the time page and tickets --------------------------------


def meter_now():
    """The signed-in client's time meter, read once per request (None where no time counts)."""
    if "time_meter" not in g:
        catalog = current_catalog()
        g.time_meter = worklog.time_meter(
            db.session, _organization_id(), catalog, today_in(catalog.timezone)
        )
    return g.time_meter


@bp.app_context_processor
def work_helpers() -> dict:
    return {
        "work_meter": meter_now,
        "work_duration": duration,
        "work_hours": hours_number,
        "work_month": month_name,
        "work_ticket": ticket_work,
        "work_organization": organization_work,
        "work_time_form": lambda: TimeEntryForm(formdata=None).setup(),
        "work_links": work_links,
        "work_catalog": current_catalog,
        "work_hours_value": hours_of,
        "work_sessions_offered": _sessions_offered,
    }


def _sessions_offered() -> bool:
    """Whether the header links to sessions: the catalog sells them (never an error on a
    page that answers a failed database)."""
    from portal.views import site_catalog

    catalog = site_catalog()
    return catalog is not None and bool(session_services(catalog))


def work_links() -> dict:
    """What the account page links to: the time page, sessions, reports, acts."""
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    organization_id = _organization_id()
    return {
        "time": worklog.counts_time(catalog),
        "sessions": bool(session_services(catalog)),
        "requests": bool(_request_plans(catalog)),
        "report_month": f"{month_of(today) - timedelta(days=1):%Y-%m}",
        "acts": list(db.session.scalars(acts.acts_of(organization_id).limit(5)))
        if catalog.work.acts
        else [],
    }


def ticket_work(ticket: Ticket) -> dict:
    """The ticket page's time box: the time logged on it, its connections, the meter."""
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    total, billable = worklog.ticket_minutes(db.session, ticket.id)
    plan = active_plan(db.session, ticket.organization_id, catalog, today)
    limit = None
    used = 0
    if catalog.work.connections is not None:
        from portal.plans.worktime import connection_limit

        limit = connection_limit(catalog, plan)
        used = connections.connections_this_month(db.session, ticket.organization_id, today)
    service = extra_service(catalog)
    return {
        "total": total,
        "billable": billable,
        "meter": (
            worklog.time_meter(db.session, ticket.organization_id, catalog, today)
            if worklog.counts_time(catalog)
            else None
        ),
        "connections": connections.ticket_connections(db.session, ticket.id),
        "limit": limit,
        "used": used,
        "paid_next": limit is not None and limit.is_paid(used),
        "hour_price": (price_time(catalog, service.code, 60) if service is not None else None),
        "entries": list(db.session.scalars(worklog.entries_of(ticket_id=ticket.id).limit(50))),
    }


def organization_work(organization) -> dict | None:
    """The staff organization page's time card: the meter and the latest entries."""
    catalog = current_catalog()
    if not worklog.counts_time(catalog):
        return None
    return {
        "meter": worklog.time_meter(
            db.session, organization.id, catalog, today_in(catalog.timezone)
        ),
        "entries": list(
            db.session.scalars(worklog.organization_entries(organization.id).limit(20))
        ),
    }


@bp.get("/account/time")
@client_required
def time_page():
    """The month's meter, the time logged (a month at a time), hours to buy in advance."""
    catalog = current_catalog()
    if not worklog.counts_time(catalog):
        abort(404)
    today = today_in(catalog.timezone)
    month = _month_arg(today)
    asked = ListQuery.from_args(request.args)
    page = page_of(db.session, worklog.organization_entries(_organization_id(), month), asked)
    return private(
        render_template(
            "work/time.html",
            catalog=catalog,
            meter=meter_now(),
            month=month,
            previous=month_of(month - timedelta(days=1)),
            following=month_of(month + timedelta(days=32)) if month < month_of(today) else None,
            rows=page.items,
            page=page,
            offers=prepaid_offers(catalog),
            hours_of=hours_of,
        )
    )


def _month_arg(today):
    value = request.args.get("month", "")
    if not value:
        return month_of(today)
    try:
        month = parse_month(value)
    except PlanError:
        abort(404)
    if month > month_of(today):
        abort(404)
    return month


@bp.post("/account/hours")
@client_required
def buy_hours():
    """Order hours in advance (a bundle of the extra-time service) at the engine's price."""
    _payers_only()
    catalog = current_catalog()
    offers = {int(offer.lines[0].bundle_hours or 0): offer for offer in prepaid_offers(catalog)}
    try:
        hours = int(request.form.get("hours", ""))
    except ValueError:
        hours = 0
    offer = offers.get(hours)
    if offer is None:
        abort(400, _("Choose one of the offers on the page."))
    if request.form.get("seen_total") != str(offer.total):
        flash(_("The prices changed since you opened this page. Check the offer and buy again."))
        return redirect(url_for("work.time_page"), 303)
    return _place_order(catalog, offer, "hours", hours_titles(hours), {"minutes": hours * 60})


# --- connections -----------------------------------------------------------------------------


@bp.post("/tickets/<id:ticket_id>/connection")
@client_required
def ask_connection(ticket_id: int):
    """Ask for a remote connection on a ticket; beyond the plan's limit, only with consent."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.organization_id != _organization_id():
        abort(404)
    catalog = current_catalog()
    if catalog.work.connections is None:
        abort(404)
    form = ConnectionForm()
    if not form.validate():
        abort(400)
    today = today_in(catalog.timezone)
    try:
        connections.request_connection(
            db.session,
            catalog=catalog,
            organization_id=ticket.organization_id,
            plan=active_plan(db.session, ticket.organization_id, catalog, today),
            ticket_id=ticket.id,
            user_id=current_user.id,
            agreed_to_pay=form.agree.data,
            today=today,
            now=now(),
        )
    except worklog.WorkError as error:
        flash(work_error_message(error), "error")
        return redirect(url_for("tickets.ticket", ticket_id=ticket.id) + "#ticket-time", 303)
    flash(_("We will connect to your computer: a specialist will call you first."))
    return redirect(url_for("tickets.ticket", ticket_id=ticket.id) + "#ticket-time", 303)


# --- paid remote sessions --------------------------------------------------------------------


def _session_catalog():
    catalog = current_catalog()
    if not session_services(catalog):
        abort(404)
    return catalog


def _own_session(session_id: int) -> RemoteSession:
    row = db.session.get(RemoteSession, session_id)
    if row is None or row.organization_id != _organization_id():
        abort(404)
    return row


@bp.get("/sessions")
@client_required
def session_list():
    catalog = _session_catalog()
    asked = ListQuery.from_args(request.args)
    page = page_of(db.session, sessions.sessions_of(_organization_id(), catalog.code), asked)
    return private(
        render_template(
            "work/sessions.html",
            catalog=catalog,
            rows=page.items,
            page=page,
            services=session_services(catalog),
            zone=current_user.organization.timezone,
        )
    )


def _service_arg(catalog, value: str | None):
    services = {s.code: s for s in session_services(catalog)}
    return services.get(value or "")


def _session_form_page(catalog, service, form, status=200, notice=None):
    moment = now()
    first = sessions.first_direct(db.session, _organization_id(), catalog.code)
    free = sessions.free_times(db.session, catalog, moment) if is_scheduled(service) else ()
    form.starts_at.choices = [(slot.isoformat(), slot.isoformat()) for slot in free]
    return private(
        render_template(
            "work/new_session.html",
            catalog=catalog,
            service=service,
            form=form,
            free=_by_day(free),
            calendar=session_calendar(catalog),
            example=price_time(catalog, service.code, 60, first_time=first),
            first_time=first,
            max_mb=backup_policy().max_bytes // 2**20,
            notice=notice,
        ),
        status,
    )


def _by_day(slots):
    days: dict = {}
    for slot in slots:
        days.setdefault(slot.date(), []).append(slot)
    return list(days.items())


@bp.get("/sessions/new")
@client_required
def new_session():
    catalog = _session_catalog()
    service = _service_arg(catalog, request.args.get("service"))
    if service is None:
        return redirect(url_for("work.session_list"), 303)
    _payers_only()
    return _session_form_page(catalog, service, SessionForm(formdata=None).setup())


@bp.post("/sessions")
@client_required
def place_session():
    catalog = _session_catalog()
    _payers_only()
    service = _service_arg(catalog, request.form.get("service"))
    if service is None:
        abort(400, _("This session is not offered."))
    form = SessionForm()
    form.setup()
    scheduled = is_scheduled(service)
    valid = form.validate()
    starts_at = None
    if scheduled:
        try:
            starts_at = datetime.fromisoformat(form.starts_at.data or "")
            if starts_at.tzinfo is None:
                raise ValueError
        except ValueError:
            form.starts_at.errors = [str(work_error_message(worklog.WorkError("missing_time")))]
            valid = False
        if not form.backup_confirmed.data:
            form.backup_confirmed.errors = [
                work_error_message(worklog.WorkError("backup_not_confirmed"))
            ]
            valid = False
    upload = request.files.get("backup")
    if not scheduled and not (upload and upload.filename):
        form.backup.errors = [work_error_message(worklog.WorkError("missing_backup"))]
        valid = False
    if not form.consent.data:
        form.consent.errors = [work_error_message(worklog.WorkError("consent_required"))]
        valid = False
    if not valid:
        return _session_form_page(catalog, service, form, 422)
    asked = sessions.SessionOrder(
        service=service.code,
        description=form.description.data,
        contact_phone=form.contact_phone.data,
        consent=True,
        starts_at=starts_at,
        backup_confirmed=bool(form.backup_confirmed.data),
        backup_name=upload.filename if upload and upload.filename else None,
        backup=upload.stream if upload and upload.filename else None,
        submission_key=form.submission.data,
    )
    try:
        booked = sessions.order_session(
            db.session,
            asked,
            catalog=catalog,
            organization_id=_organization_id(),
            user_id=current_user.id,
            policy=backup_policy(),
            now=now(),
        )
    except worklog.WorkError as error:
        status = (
            413 if error.code == "file_too_large" else 409 if error.code == "slot_taken" else 422
        )
        target = getattr(form, error.field, None) if error.field else None
        if target is not None:
            target.errors = [work_error_message(error)]
        return _session_form_page(catalog, service, form, status, notice=work_error_message(error))
    return redirect(url_for("work.session_page", session_id=booked.id), 303)


@bp.get("/sessions/<id:session_id>")
@client_required
def session_page(session_id: int):
    catalog = _session_catalog()
    row = _own_session(session_id)
    minutes = sessions.session_minutes(db.session, row.id)
    return private(
        render_template(
            "work/session.html",
            catalog=catalog,
            row=row,
            service=catalog.services.get(row.service),
            minutes=minutes,
            zone=current_user.organization.timezone,
            cancel_until=(
                row.starts_at - timedelta(hours=current_app.config["SESSION_CANCEL_HOURS"])
                if row.starts_at
                else None
            ),
            now=now(),
        )
    )


@bp.post("/sessions/<id:session_id>/cancel")
@client_required
def cancel_session(session_id: int):
    _session_catalog()
    _payers_only()
    row = _own_session(session_id)
    try:
        sessions.cancel_session(
            db.session,
            row,
            now(),
            timedelta(hours=current_app.config["SESSION_CANCEL_HOURS"]),
        )
    except worklog.WorkError as error:
        flash(work_error_message(error), "error")
        return redirect(url_for("work.session_page", session_id=session_id), 303)
    flash(_("The session is cancelled."))
    return redirect(url_for("work.session_page", session_id=session_id), 303)


@bp.get("/sessions/<id:session_id>/backup")
def session_backup(session_id: int):
    """The backup sent with a session: to its organization and to staff, as a download."""
    if not current_user.is_authenticated:
        return sign_in_first()
    row = db.session.get(RemoteSession, session_id)
    if row is None or not (
        current_user.is_staff or current_user.organization_id == row.organization_id
    ):
        abort(404)
    path = sessions.backup_path(row, backup_policy())
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=row.file_name or "backup",
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- one-off requests (iiko) -----------------------------------------------------------------


def _request_plans(catalog):
    return [code for code, plan in catalog.plans.items() if plan.pricing == "per-request"]


def _request_page(catalog, plan_code, quantities, priced=None, error=None, status=200):
    return private(
        render_template(
            "work/new_request.html",
            catalog=catalog,
            plan=catalog.plans[plan_code],
            units=[(code, catalog.units[code]) for code in catalog.plans[plan_code].unit_prices],
            quantities=quantities,
            priced=priced,
            error=error,
        ),
        status,
    )


def _request_quote(catalog, plan_code, form):
    params = {"plan": plan_code}
    quantities = {}
    for code in catalog.plans[plan_code].unit_prices:
        value = (form.get(f"qty.{code}") or "").strip()
        quantities[code] = value
        if value and value != "0":
            params[f"qty.{code}"] = value
    if len(params) == 1:
        raise PlanError("missing_parameter", "Choose at least one service", "quantity")
    asked = parse_quote_request(catalog, params, today_in(catalog.timezone))
    assert isinstance(asked, PlanQuoteRequest)
    return quote(catalog, asked), quantities


@bp.route("/requests/new", methods=["GET", "POST"])
@client_required
def new_request():
    """A one-off request priced by the engine: units and quantities; ordered on POST."""
    catalog = current_catalog()
    plans = _request_plans(catalog)
    if not plans:
        abort(404)
    _payers_only()
    plan_code = plans[0]
    form = request.form if request.method == "POST" else request.args
    if not any(key.startswith("qty.") for key in form):
        return _request_page(catalog, plan_code, {})
    try:
        priced, quantities = _request_quote(catalog, plan_code, form)
    except PlanError as error:
        quantities = {k[4:]: v for k, v in form.items() if k.startswith("qty.")}
        return _request_page(catalog, plan_code, quantities, error=error_message(error), status=422)
    if request.method == "GET" or request.form.get("seen_total") != str(priced.total):
        return _request_page(catalog, plan_code, quantities, priced)
    ordered = {k: int(v) for k, v in quantities.items() if v and v != "0"}
    return _place_order(
        catalog, priced, "request", request_titles(catalog, plan_code), {"quantities": ordered}
    )


def _place_order(catalog, priced, kind: str, titles, details: dict):
    """Order what the engine priced (hours in advance, a one-off request), dated today in
    the provider's zone, and go to its page to pay."""
    today = today_in(catalog.timezone)
    order = time_order(
        priced,
        kind=kind,
        organization_id=_organization_id(),
        user_id=current_user.id,
        labels=labels_for(catalog, None),
        titles=titles,
        details=details,
        coverage=(today, today),
        now=now(),
    )
    db.session.add(order)
    db.session.commit()
    return redirect(url_for("billing.order", order_id=order.id), 303)


# --- acts ------------------------------------------------------------------------------------


@bp.get("/acts/<id:act_id>.pdf")
def act_download(act_id: int):
    if not current_user.is_authenticated:
        return sign_in_first()
    act = db.session.get(Act, act_id)
    if act is None or not (
        current_user.is_staff or current_user.organization_id == act.organization_id
    ):
        abort(404)
    locale = request.args.get("lang") or act.organization.language or "en"
    from portal.i18n import LOCALES

    if locale not in LOCALES:
        locale = act.organization.language
    response = make_response(act_pdf(act, locale))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{act.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/account/acts")
@client_required
def act_list():
    catalog = current_catalog()
    if not catalog.work.acts:
        abort(404)
    asked = ListQuery.from_args(request.args)
    page = page_of(db.session, acts.acts_of(_organization_id()), asked)
    return private(render_template("work/acts.html", catalog=catalog, rows=page.items, page=page))


# --- the monthly report ----------------------------------------------------------------------


def _report_month(value: str):
    catalog = current_catalog()
    try:
        month = parse_month(value)
    except PlanError:
        abort(404)
    if month > month_of(today_in(catalog.timezone)):
        abort(404)
    return catalog, month


@bp.get("/reports/<month>")
@client_required
def report(month: str):
    catalog, first = _report_month(month)
    found = reports.month_report(db.session, _organization_id(), catalog, first, now())
    owner = current_user.is_owner
    return private(
        render_template(
            "work/report.html",
            catalog=catalog,
            report=found,
            month=first,
            previous=month_of(first - timedelta(days=1)),
            following=(
                month_of(first + timedelta(days=32))
                if first < month_of(today_in(catalog.timezone))
                else None
            ),
            recipients=reports.recipients(db.session, _organization_id()) if owner else [],
            recipient_form=RecipientForm(formdata=None) if owner else None,
            mailed=catalog.work.report_unit is not None,
            category_name=lambda code: category_label(catalog, code),
        )
    )


@bp.get("/reports/<month>.csv")
@client_required
def report_csv_download(month: str):
    catalog, first = _report_month(month)
    found = reports.month_report(db.session, _organization_id(), catalog, first, now())
    response = make_response(report_csv(found, catalog).encode("utf-8-sig"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="report-{first:%Y-%m}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/reports/<month>/chart.svg")
@client_required
def report_chart_svg(month: str):
    catalog, first = _report_month(month)
    found = reports.month_report(db.session, _organization_id(), catalog, first, now())
    response = make_response(report_chart(found, catalog))
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-store"
    # An image: its own styles only, no script, nothing fetched.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


def _owner_only():
    if not current_user.is_owner:
        abort(403, _("Only the organization's owner can change this."))


@bp.post("/reports/recipients")
@client_required
def add_recipient():
    _owner_only()
    form = RecipientForm()
    back = request.form.get("month") or f"{month_of(today_in(current_catalog().timezone)):%Y-%m}"
    try:
        parse_month(back)
    except PlanError:
        back = f"{month_of(today_in(current_catalog().timezone)):%Y-%m}"
    if not form.validate():
        flash(" ".join(form.email.errors), "error")
        return redirect(url_for("work.report", month=back) + "#recipients", 303)
    from portal.accounts.services import normalize_email

    try:
        reports.add_recipient(
            db.session, _organization_id(), normalize_email(form.email.data), now()
        )
    except worklog.WorkError as error:
        flash(work_error_message(error), "error")
        return redirect(url_for("work.report", month=back) + "#recipients", 303)
    flash(_("The report will go to %(email)s too.", email=form.email.data))
    return redirect(url_for("work.report", month=back) + "#recipients", 303)


@bp.post("/reports/recipients/<id:recipient_id>/remove")
@client_required
def remove_recipient(recipient_id: int):
    _owner_only()
    found = db.session.get(ReportRecipient, recipient_id)
    if found is None or found.organization_id != _organization_id():
        abort(404)
    reports.remove_recipient(db.session, _organization_id(), recipient_id)
    back = request.form.get("month") or ""
    try:
        parse_month(back)
    except PlanError:
        back = f"{month_of(today_in(current_catalog().timezone)):%Y-%m}"
    flash(_("%(email)s no longer gets the report.", email=found.email))
    return redirect(url_for("work.report", month=back) + "#recipients", 303)


# --- a session's price, on the comparison and plan pages --------------------------------------


@bp.get("/services/<code>/price")
def service_price(code: str):
    """What a session of the hours typed costs, as the engine charges it (htmx: the figure
    alone; without JavaScript, a page with the form again)."""
    catalog = current_catalog()
    service = catalog.services.get(code)
    if service is None or service.pricing != "hourly":
        abort(404)
    hours_text = (request.args.get("hours") or "").strip().replace(",", ".")
    first = request.args.get("first_time") == "1"
    priced = None
    error = None
    try:
        hours = Decimal(hours_text)
        if not hours.is_finite() or hours <= 0 or hours > 100:
            raise ValueError
        priced = price_time(catalog, code, int((hours * 60).to_integral_value()), first)
    except (ArithmeticError, ValueError):
        error = _("Type the hours as a number, for example 1.5.")
    except PlanError as failure:
        error = error_message(failure)
    context = {
        "catalog": catalog,
        "service": service,
        "hours": hours_text,
        "first_time": first,
        "priced": priced,
        "error": error,
    }
    status = 422 if error else 200
    if htmx:
        return private(render_template("work/_service_price.html", **context), status)
    return private(render_template("work/service_price.html", **context), status)
