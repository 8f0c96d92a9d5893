"""The client's tickets: the list, the filing form, a ticket with its live clocks, replies,
rating and closing; and files, for the organization and staff."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
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
from portal.catalog.current import current_catalog
from portal.catalog.wording import error_message
from portal.clock import now, today_in
from portal.extensions import db, htmx
from portal.listing import ListQuery, page_of
from portal.models import Ticket, TicketAttachment
from portal.plans import Catalog, PlanError
from portal.plans.tickets import category_of, ticket_categories, ticket_plan
from portal.tickets import bp, filing, queries, workflow
from portal.tickets.attachments import AttachmentRefused, Upload
from portal.tickets.forms import RatingForm, ReplyForm, TicketForm
from portal.tickets.presentation import (
    EVENT_LABELS,
    STAFF_STATUS_LABELS,
    STATUS_LABELS,
    any_running,
    attachment_error_message,
    attachment_path,
    calendar_words,
    catalog_of,
    category_help,
    category_label,
    clock_views,
    file_policy,
    is_member,
    promise_words,
    target_definition,
    target_name,
    ticket_error_message,
)
from portal.tickets.staff_view import staff_context

CLOCKS_TARGET = "ticket-clocks"
# How often an open ticket's page asks for its clocks: running, and standing still.
POLL_SECONDS = 5
PAUSED_POLL_SECONDS = 30


def _response(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("HX-Request")
    return response


def uploads_of(field_name: str = "files") -> list[Upload]:
    return [
        Upload(f.filename or "file", f.stream)
        for f in request.files.getlist(field_name)
        if f and (f.filename or "").strip()
    ]


# The views whose forms carry files.
UPLOAD_ENDPOINTS = frozenset({"tickets.file_ticket", "tickets.reply", "tickets.file_for_caller"})


def allow_uploads() -> None:
    """A request to a view that takes a message's files may be as large as they are.

    Registered before the CSRF check, which reads the form: set in the view, the
    limit would come after the body was refused."""
    if request.endpoint not in UPLOAD_ENDPOINTS:
        return
    config = current_app.config
    request.max_content_length = max(
        config["MAX_CONTENT_LENGTH"],
        config["TICKET_FILE_MAX_BYTES"] * config["TICKET_FILES_PER_MESSAGE"] + 2**20,
    )


# --- the list and the filing form -------------------------------------------------------------


@bp.get("/tickets")
@client_required
def ticket_list():
    """The organization's tickets, newest first, a page at a time."""
    catalog = current_catalog()
    asked = ListQuery.from_args(request.args, {"status": queries.STATUS_FILTER[:2]})
    organization = current_user.organization
    page = page_of(
        db.session,
        queries.organization_tickets(organization.id, asked.search, asked.filters["status"]),
        asked,
    )
    moment = now()
    rows = [_row(ticket, moment, organization.timezone) for ticket in page.items]
    return _response(
        render_template("tickets/list.html", rows=rows, page=page, catalog=catalog, asked=asked)
    )


def _row(ticket: Ticket, moment, zone: str) -> dict:
    catalog = catalog_of(ticket)
    views = clock_views(catalog, ticket, moment, zone)
    nearest = min(
        (view for view in views if view.state in ("running", "breached")),
        key=lambda view: view.due_iso,
        default=None,
    )
    return {
        "ticket": ticket,
        "status": STATUS_LABELS[ticket.status],
        "category": category_label(catalog, ticket.category),
        "clock": nearest,
        "breached": any(view.state == "breached" for view in views),
    }


def terms_for(catalog: Catalog, plan: str | None) -> dict:
    """What applies to a new ticket of the organization: its plan's targets with their
    promises and definitions, the calendar they count on, or no SLA."""
    if plan is None:
        return {"plan": None, "targets": [], "calendar": None}
    promises = catalog.plans[plan].sla
    return {
        "plan": catalog.plans[plan],
        "targets": [
            {
                "code": code,
                "name": target_name(catalog, code),
                "definition": target_definition(catalog, code),
                "words": promise_words(promise),
                "applies": catalog.sla_targets[code].applies,
            }
            for code, promise in promises.items()
        ],
        "calendar": calendar_words(catalog, plan),
    }


def organization_plan(catalog: Catalog, organization) -> tuple[str | None, str | None]:
    """The organization's active plan, and the plan a new ticket runs."""
    active = filing.active_plan(db.session, organization.id, catalog, today_in(catalog.timezone))
    return active, ticket_plan(catalog, active)


def form_context(catalog: Catalog, form, plan: str | None, active: str | None) -> dict:
    categories = ticket_categories(catalog)
    return {
        "form": form,
        "catalog": catalog,
        "categories": [
            {"code": c.code, "kind": c.kind, "help": category_help(c, catalog)} for c in categories
        ],
        "definitions": {
            choice.value: target_definition(catalog, choice.value) for choice in form.target.choices
        },
        "terms": terms_for(catalog, plan),
        "active_plan": catalog.plans.get(active) if active else None,
        "policy": file_policy(),
    }


@bp.get("/tickets/new")
@client_required
def new_ticket():
    catalog = current_catalog()
    active, plan = organization_plan(catalog, current_user.organization)
    form = TicketForm(formdata=None).setup(catalog, plan)
    return _response(
        render_template("tickets/new.html", **form_context(catalog, form, plan, active))
    )


@bp.post("/tickets")
@client_required
def file_ticket():
    """File the ticket: 303 to it, or 422 and the form with what to change beside it."""
    catalog = current_catalog()
    organization = current_user.organization
    active, plan = organization_plan(catalog, organization)
    form = TicketForm().setup(catalog, plan)

    def again(status=422):
        page = render_template("tickets/new.html", **form_context(catalog, form, plan, active))
        return _response(page, status)

    if not form.validate():
        return again()
    details = filing.TicketDetails(
        title=form.title.data,
        description=form.description.data,
        category=form.category.data,
        target=form.target.data if form.category.data == "support" else None,
        remote_access=form.remote_access.data,
    )
    try:
        ticket = filing.file_ticket(
            db.session,
            catalog,
            organization,
            details,
            opened_by=current_user,
            now=now(),
            today=today_in(catalog.timezone),
            files=file_policy(),
            uploads=uploads_of(),
            submission_key=f"{current_user.id}:{form.submission.data}",
        )
    except (PlanError, filing.TicketError, AttachmentRefused) as error:
        refusal_beside_field(form, error)
        return again()
    flash(_("Your ticket is registered. We will answer here and by e-mail."))
    return redirect(url_for("tickets.ticket", ticket_id=ticket.id), 303)


def refusal_beside_field(form, error) -> None:
    """Say a service's refusal beside the field at fault (the form's top otherwise)."""
    if isinstance(error, AttachmentRefused):
        message, field = attachment_error_message(error), "files"
    elif isinstance(error, filing.TicketError):
        message, field = ticket_error_message(error), error.field
    else:
        message, field = error_message(error), error.field
    at_fault = form._fields.get(field) if field else None
    (at_fault.errors if at_fault is not None else form.form_errors).append(message)
    if at_fault is not None and not isinstance(at_fault.errors, list):
        at_fault.errors = [*at_fault.errors, message]


# --- one ticket -------------------------------------------------------------------------------


def visible_ticket(ticket_id: int) -> Ticket:
    """The ticket if the signed-in user may see it (staff, or its organization), else 404."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not is_member(current_user, ticket):
        abort(404)
    return ticket


def reader_zone(ticket: Ticket, catalog: Catalog) -> str:
    """Clients read times in their organization's zone; staff in the provider's."""
    return catalog.timezone if current_user.is_staff else ticket.organization.timezone


def clocks_context(ticket: Ticket, catalog: Catalog) -> dict:
    views = clock_views(catalog, ticket, now(), reader_zone(ticket, catalog))
    polling = ticket.status != "closed" and any_running(views)
    running = any(view.state == "running" for view in views)
    return {
        "ticket": ticket,
        "clocks": views,
        "poll_seconds": (POLL_SECONDS if running else PAUSED_POLL_SECONDS) if polling else None,
        "calendar": calendar_words(catalog, ticket.plan),
        "paused_since": next((v.paused_since for v in views if v.paused_since), None),
        "status_label": STATUS_LABELS[ticket.status],
    }


def ticket_context(ticket: Ticket, reply_form=None, rating_form=None) -> dict:
    catalog = catalog_of(ticket)
    category = category_of(catalog, ticket.category) if ticket.category else None
    context = {
        **clocks_context(ticket, catalog),
        "catalog": catalog,
        "plan": catalog.plans.get(ticket.plan) if ticket.plan else None,
        "category": category_label(catalog, ticket.category),
        "category_kind": category.kind if category else None,
        "category_help": category_help(category, catalog) if category else None,
        "claimed": target_name(catalog, ticket.claimed_target) if ticket.claimed_target else None,
        "messages": queries.conversation(db.session, ticket.id, current_user.is_staff),
        "opening_files": list(
            db.session.scalars(
                db.select(TicketAttachment)
                .where(
                    TicketAttachment.ticket_id == ticket.id, TicketAttachment.message_id.is_(None)
                )
                .order_by(TicketAttachment.id)
            )
        ),
        "reply_form": reply_form or ReplyForm(formdata=None),
        "rating_form": rating_form or RatingForm(formdata=None, obj=ticket),
        "policy": file_policy(),
        "zone": reader_zone(ticket, catalog),
        "status_labels": STATUS_LABELS,
        "staff_status_labels": STAFF_STATUS_LABELS,
        "event_labels": EVENT_LABELS,
    }
    if current_user.is_staff:
        context.update(staff_context(ticket, catalog))
    return context


@bp.get("/tickets/<id:ticket_id>")
def ticket(ticket_id: int):
    if not current_user.is_authenticated:
        return sign_in_first()
    found = visible_ticket(ticket_id)
    current_catalog()
    return _response(render_template("tickets/ticket.html", **ticket_context(found)))


@bp.get("/tickets/<id:ticket_id>/clocks")
def ticket_clocks(ticket_id: int):
    """The clocks fragment the page polls (the page itself for a plain request)."""
    if not current_user.is_authenticated:
        return sign_in_first()
    found = visible_ticket(ticket_id)
    current_catalog()
    if not (htmx and htmx.target == CLOCKS_TARGET):
        return redirect(url_for("tickets.ticket", ticket_id=found.id), 303)
    context = clocks_context(found, catalog_of(found))
    return _response(render_template("tickets/_clocks.html", **context))


@bp.post("/tickets/<id:ticket_id>/replies")
def reply(ticket_id: int):
    """A message from the client (or staff: see ``staff.reply``); 303 back to the ticket."""
    if not current_user.is_authenticated:
        return sign_in_first()
    found = visible_ticket(ticket_id)
    current_catalog()
    form = ReplyForm()
    if not form.validate():
        return _response(render_template("tickets/ticket.html", **ticket_context(found, form)), 422)
    internal = bool(form.internal.data) and current_user.is_staff
    try:
        workflow.add_message(
            db.session,
            catalog_of(found),
            found,
            current_user,
            form.body.data,
            now=now(),
            files=file_policy(),
            uploads=uploads_of(),
            internal=internal,
            outbox=current_app.extensions["outbox"],
            notify=reply_mails,
            submission_key=f"{current_user.id}:{form.submission.data}"
            if form.submission.data
            else None,
        )
    except (filing.TicketError, AttachmentRefused) as error:
        refusal_beside_field(form, error)
        return _response(render_template("tickets/ticket.html", **ticket_context(found, form)), 422)
    flash(_("Your note is saved.") if internal else _("Your message is sent."))
    return redirect(url_for("tickets.ticket", ticket_id=found.id, _anchor="reply"), 303)


def reply_mails(ticket: Ticket, message) -> list:
    from portal.tickets.mails import reply_mails as compose

    return compose(ticket, message)


@bp.post("/tickets/<id:ticket_id>/close")
@client_required
def close(ticket_id: int):
    found = visible_ticket(ticket_id)
    current_catalog()
    try:
        workflow.close_by_client(db.session, catalog_of(found), found, current_user, now())
    except filing.TicketError as error:
        flash(ticket_error_message(error))
        return redirect(url_for("tickets.ticket", ticket_id=found.id), 303)
    flash(_("The ticket is closed. Thank you."))
    return redirect(url_for("tickets.ticket", ticket_id=found.id), 303)


@bp.post("/tickets/<id:ticket_id>/rating")
@client_required
def rate(ticket_id: int):
    found = visible_ticket(ticket_id)
    current_catalog()
    form = RatingForm()
    if not form.validate():
        page = render_template("tickets/ticket.html", **ticket_context(found, rating_form=form))
        return _response(page, 422)
    try:
        workflow.rate(
            db.session, found, current_user, form.rating.data, form.comment.data or "", now()
        )
    except filing.TicketError as error:
        refusal_beside_field(form, error)
        page = render_template("tickets/ticket.html", **ticket_context(found, rating_form=form))
        return _response(page, 422)
    flash(_("Thank you for your rating."))
    return redirect(url_for("tickets.ticket", ticket_id=found.id, _anchor="rating"), 303)


@bp.get("/tickets/<id:ticket_id>/files/<id:file_id>")
def download(ticket_id: int, file_id: int):
    """A ticket's file, for its organization and staff only, always as a download."""
    if not current_user.is_authenticated:
        return sign_in_first()
    found = visible_ticket(ticket_id)
    row = db.session.get(TicketAttachment, file_id)
    if row is None or row.ticket_id != found.id:
        abort(404)
    message = row.message
    if message is not None and message.internal and not current_user.is_staff:
        abort(404)
    path = attachment_path(row)
    if path is None:
        abort(404)
    response = send_file(
        path, mimetype=row.mime_type, as_attachment=True, download_name=row.filename
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def staff_filing_terms(catalog: Catalog, organization) -> dict:
    active, plan = organization_plan(catalog, organization)
    return {"active": active, "plan": plan, "terms": terms_for(catalog, plan)}
