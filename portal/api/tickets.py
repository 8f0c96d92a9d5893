"""The tickets of the JSON API, for a personal token's user (``Authorization: Bearer``).

``GET /api/v1/tickets`` and ``/api/v1/tickets/<id>``, ``POST /api/v1/tickets`` and
``POST /api/v1/tickets/<id>/replies``. A client's token sees its organization's tickets,
a staff member's every organization's; another organization's ticket is a 404. Each
ticket comes with its targets' clocks as the engine tells them now. Thin views: read
the request, call the ticket services, answer JSON in the API's one error shape.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from portal.api import bp
from portal.api.auth import token_required
from portal.api.documents import error_document, refusal_document
from portal.catalog.current import current_catalog
from portal.catalog.wording import number
from portal.clock import now, today_in
from portal.extensions import db
from portal.forms import stripped
from portal.listing import ListQuery, page_of
from portal.models import Organization, Ticket, TicketMessage, User
from portal.plans import Catalog, PlanError
from portal.tickets import filing, queries, workflow
from portal.tickets.clocks import clocks
from portal.tickets.mails import reply_mails
from portal.tickets.presentation import catalog_of, file_policy, is_member, ticket_error_message

PER_PAGE = 20
PER_PAGE_MAX = 100
LIST_PARAMETERS = ("page", "per_page", "status", "lang")
# The members a body may have, and the JSON type of each (null for any: not given).
TICKET_FIELDS = {
    "title": str,
    "description": str,
    "category": str,
    "target": str,
    "remote_access": bool,
    "contact_phone": str,
    "organization_id": int,
}
REPLY_FIELDS = {"body": str}
CONTACT_PHONE_LENGTH = 32
# An Idempotency-Key: what a script would make (a UUID, a job's id), and no more.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class Refused(Exception):
    """A request the API answers with ``status`` and the error document."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(code)
        self.status = status
        self.document = refusal_document(code, message, field)


@bp.errorhandler(Refused)
def refused(error: Refused):
    return _private(jsonify(error.document), error.status)


def _private(response, status: int = 200):
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Authorization")
    return response


# --- the documents ----------------------------------------------------------------------------


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def ticket_document(ticket: Ticket, catalog: Catalog, moment: datetime) -> dict:
    """A ticket and each of its targets' clocks at ``moment``, times in the catalog's zone.

    A target's ``state`` is ``running``, ``paused`` (the ticket waits for the client),
    ``met`` or ``breached`` (past due unmet, or met late); ``due_at`` moves by the
    working time paused; ``used_seconds`` of ``allowed_seconds`` are counted so far.
    """
    zone = ZoneInfo(catalog.timezone)
    return {
        "id": ticket.id,
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status,
        "category": ticket.category,
        "claimed_target": ticket.claimed_target,
        "remote_access": ticket.remote_access,
        "contact_phone": ticket.contact_phone,
        "organization_id": ticket.organization_id,
        "catalog": ticket.catalog,
        "catalog_version": ticket.catalog_version,
        "plan": ticket.plan,
        "opened_at": _iso(ticket.opened_at, zone),
        "updated_at": _iso(ticket.updated_at, zone),
        "resolved_at": _iso(ticket.resolved_at, zone),
        "closed_at": _iso(ticket.closed_at, zone),
        "targets": [
            {
                "target": target.target,
                "clock": clock.clock,
                "state": clock.state,
                "started_at": _iso(target.started_at, zone),
                "due_at": _iso(clock.due, zone),
                "used_seconds": int(clock.used.total_seconds()),
                "allowed_seconds": int(clock.span.total_seconds()),
                "met_at": _iso(clock.met_at, zone),
                "paused_since": _iso(clock.paused_since, zone),
                "breached": clock.state == "breached",
            }
            for target, clock in clocks(catalog, ticket, moment)
        ],
    }


def message_document(message: TicketMessage, zone: ZoneInfo) -> dict:
    return {
        "id": message.id,
        "body": message.body,
        "event": message.event,
        "from_staff": message.from_staff,
        "internal": message.internal,
        "author": message.author.name if message.author else None,
        "created_at": _iso(message.created_at, zone),
    }


def _with_conversation(ticket: Ticket, user: User) -> dict:
    catalog = catalog_of(ticket)
    document = ticket_document(ticket, catalog, now())
    zone = ZoneInfo(catalog.timezone)
    document["messages"] = [
        message_document(message, zone)
        for message in queries.conversation(db.session, ticket.id, user.is_staff)
    ]
    return document


# --- reading the request ----------------------------------------------------------------------


def _json_object(fields: dict[str, type]) -> dict:
    """The request's JSON body: an object whose members are ``fields`` of their types
    (null for an absent one); a 400 otherwise."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise Refused(
            400,
            "invalid_json",
            gettext('The body must be a JSON object, such as {"title": "…"}.'),
        )
    for name, value in body.items():
        if name not in fields:
            raise Refused(
                400,
                "unknown_field",
                gettext(
                    "Unknown field %(field)s (fields: %(known)s).",
                    field=name,
                    known=", ".join(fields),
                ),
                name,
            )
        kind = fields[name]
        if value is None:
            continue
        if kind is str and isinstance(value, str):
            _check_text(name, value)
            continue
        if kind is str:
            message = gettext("%(field)s must be a string.", field=name)
        elif kind is bool and not isinstance(value, bool):
            message = gettext("%(field)s must be true or false.", field=name)
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            message = gettext("%(field)s must be a whole number.", field=name)
        else:
            continue
        raise Refused(400, "invalid_type", message, name)
    return body


def _check_text(name: str, value: str) -> None:
    """Text a database can keep: no control characters (as the forms), no lone surrogates
    (which JSON's ``\\ud800`` can carry and UTF-8 cannot)."""
    try:
        stripped(value)
        value.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise Refused(
            400,
            "invalid_text",
            gettext("This field contains characters that cannot be stored."),
            name,
        ) from None


def _submission_key(user: User, ticket: Ticket | None = None) -> str | None:
    """The ``Idempotency-Key`` header as a submission key of ``user``'s (for a reply, of
    ``ticket``'s too: the same key on another ticket is another message), or None."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise Refused(
            400,
            "invalid_idempotency_key",
            gettext(
                "The Idempotency-Key header has 1 to 64 characters: letters, digits and . _ : -"
            ),
            "Idempotency-Key",
        )
    if ticket is not None:
        # Hashed: the user's, the ticket's and the script's parts would not fit the column.
        scoped = hashlib.sha256(f"{user.id}:{ticket.id}:{key}".encode()).hexdigest()
        return f"api-reply:{scoped}"
    return f"api:{user.id}:{key}"


def _whole_number(name: str, default: int, largest: int) -> int:
    typed = request.args.get(name)
    if typed is None:
        return default
    if not (typed.isascii() and typed.isdigit()) or not 1 <= int(typed) <= largest:
        raise Refused(
            400,
            "invalid_parameter",
            gettext(
                "%(field)s must be a whole number from 1 to %(largest)s.",
                field=name,
                largest=number(largest),
            ),
            name,
        )
    return int(typed)


def _list_request() -> tuple[int, int, str]:
    for name in request.args:
        if name not in LIST_PARAMETERS or len(request.args.getlist(name)) > 1:
            raise Refused(
                400,
                "unknown_parameter",
                gettext(
                    "Unknown or repeated parameter %(field)s (parameters: %(known)s).",
                    field=name,
                    known=", ".join(LIST_PARAMETERS),
                ),
                name,
            )
    status = request.args.get("status", "all")
    if status not in queries.STATUS_FILTER:
        raise Refused(
            400,
            "invalid_parameter",
            gettext("status must be one of: %(known)s.", known=", ".join(queries.STATUS_FILTER)),
            "status",
        )
    page = _whole_number("page", 1, 10**6)
    per_page = _whole_number("per_page", PER_PAGE, PER_PAGE_MAX)
    return page, per_page, status


def _visible(ticket_id: int, user: User) -> Ticket:
    """The ticket if ``user`` may see it, else a 404 (another organization's too)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not is_member(user, ticket):
        raise Refused(404, "not_found", gettext("There is no such ticket."))
    return ticket


def _ticket_refusal(error: filing.TicketError | PlanError) -> Refused:
    """A ticket service's refusal: a 422 naming the field at fault."""
    if isinstance(error, PlanError):
        document = error_document(error)["error"]
        return Refused(422, document["code"], document["message"], document["field"])
    return Refused(422, error.code, ticket_error_message(error), error.field)


def _organization_for(user: User, body: dict) -> Organization:
    """Staff name the organization they file for; a client files for their own."""
    asked = body.get("organization_id")
    if not user.is_staff:
        if asked is not None and asked != user.organization_id:
            raise Refused(
                422,
                "organization_not_allowed",
                gettext("A client's token files tickets for its own organization only."),
                "organization_id",
            )
        return user.organization
    if asked is None:
        raise Refused(
            422,
            "missing_parameter",
            gettext("Staff file a ticket for a client: give its organization_id."),
            "organization_id",
        )
    organization = db.session.get(Organization, asked) if 0 < asked < 2**63 else None
    if organization is None:
        raise Refused(
            422,
            "unknown_organization",
            gettext("There is no organization %(id)s.", id=asked),
            "organization_id",
        )
    return organization


# --- the endpoints ----------------------------------------------------------------------------


@bp.get("/tickets")
@token_required
def tickets(user: User):
    """A page of the tickets: a client's organization's newest first; for staff, every
    organization's, the nearest due first (the queue's order)."""
    page_number, per_page, status = _list_request()
    current_catalog()
    moment = now()
    if user.is_staff:
        query = queries.queue({"status": status}, "", moment)
    else:
        query = queries.organization_tickets(user.organization_id, "", status)
    page = page_of(db.session, query, ListQuery(page=page_number), size=per_page)
    return _private(
        jsonify(
            {
                "page": page.number,
                "per_page": per_page,
                "pages": page.pages,
                "total": page.total,
                "tickets": [
                    ticket_document(ticket, catalog_of(ticket), moment) for ticket in page.items
                ],
            }
        )
    )


@bp.get("/tickets/<id:ticket_id>")
@token_required
def ticket(ticket_id: int, user: User):
    """A ticket with its clocks and its conversation (staff's notes for staff only)."""
    found = _visible(ticket_id, user)
    current_catalog()
    return _private(jsonify(_with_conversation(found, user)))


@bp.post("/tickets")
@token_required
def file_ticket(user: User):
    """File a ticket: 201 and the ticket; the same ``Idempotency-Key`` again, 200 and the
    ticket it filed first."""
    body = _json_object(TICKET_FIELDS)
    key = _submission_key(user)
    organization = _organization_for(user, body)
    phone = body.get("contact_phone")
    if phone is not None and len(phone.strip()) > CONTACT_PHONE_LENGTH:
        raise Refused(
            422,
            "contact_phone_too_long",
            gettext(
                "A phone number has at most %(count)s characters.",
                count=number(CONTACT_PHONE_LENGTH),
            ),
            "contact_phone",
        )
    catalog = current_catalog()
    details = filing.TicketDetails(
        title=body.get("title") or "",
        description=body.get("description") or "",
        category=body.get("category") or "support",
        target=body.get("target") or None,
        remote_access=bool(body.get("remote_access")),
        contact_phone=phone.strip() if phone else None,
    )
    replayed = key is not None and (
        db.session.scalar(select(Ticket.id).where(Ticket.submission_key == key)) is not None
    )
    staff = user.is_staff
    try:
        filed = filing.file_ticket(
            db.session,
            catalog,
            organization,
            details,
            opened_by=None if staff else user,
            filed_by=user if staff else None,
            now=now(),
            today=today_in(catalog.timezone),
            files=file_policy(),
            submission_key=key,
        )
    except (PlanError, filing.TicketError) as error:
        raise _ticket_refusal(error) from None
    response = _private(jsonify(_with_conversation(filed, user)), 200 if replayed else 201)
    response.headers["Location"] = url_for("api.ticket", ticket_id=filed.id)
    return response


@bp.post("/tickets/<id:ticket_id>/replies")
@token_required
def reply(ticket_id: int, user: User):
    """A public message on the ticket, from the client or (a staff token) from staff:
    201 and the ticket with its conversation. ``Idempotency-Key`` as for filing."""
    found = _visible(ticket_id, user)
    body = _json_object(REPLY_FIELDS)
    key = _submission_key(user, found)
    current_catalog()
    try:
        workflow.add_message(
            db.session,
            catalog_of(found),
            found,
            user,
            body.get("body") or "",
            now=now(),
            files=file_policy(),
            internal=False,
            outbox=current_app.extensions["outbox"],
            notify=reply_mails,
            submission_key=key,
        )
    except filing.TicketError as error:
        raise _ticket_refusal(error) from None
    db.session.refresh(found)
    response = _private(jsonify(_with_conversation(found, user)), 201)
    response.headers["Location"] = url_for("api.ticket", ticket_id=found.id)
    return response
