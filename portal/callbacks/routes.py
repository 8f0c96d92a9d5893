"""The call-back form, its confirmation, and the staff list of open requests."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import formatting
from portal.accounts.access import staff_required
from portal.accounts.routes import home_url, too_many_requests
from portal.callbacks import bp, services
from portal.callbacks.forms import KIND_LABELS, PREFERRED_TIME_LABELS, CallbackForm, quote_form
from portal.catalog import services as catalogs
from portal.catalog.comparison import read_choice
from portal.catalog.current import current_catalog
from portal.catalog.wording import (
    choice_words,
    city_name,
    counted,
    digits,
    enumeration,
    locale_code,
)
from portal.clock import now
from portal.extensions import db, give_back_hit, htmx, limiter
from portal.listing import ListQuery, page_of
from portal.models import CALLBACK_KINDS, CallbackRequest
from portal.plans import Catalog

FORM_TARGET = "callback-form"


# Confirmation tokens are 32 URL-safe characters; anything else is not one of ours.
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


@bp.get("/callback")
def form():
    """The form for ``?plan=CODE&kind=callback|quote&options=QUERY``; an unknown plan is a 404."""
    catalog = current_catalog()
    kind = request.args.get("kind", "callback")
    plan = request.args.get("plan") or None
    if kind not in CALLBACK_KINDS or (plan is not None and plan not in catalog.plans):
        abort(404)
    if kind == "quote" and plan is None:
        abort(404)
    options = request.args.get("options", "")
    if len(options) > services.MAX_OPTIONS_LENGTH:
        options = ""  # too long to keep: the request goes without them
    callback_form = quote_form(
        catalog, plan, kind, formdata=None, data={"plan": plan, "kind": kind, "options": options}
    )
    return _form_page(catalog, callback_form, 200)


@bp.post("/callback")
@limiter.limit("10 per hour", error_message=too_many_requests)
def submit():
    """Take the request: 303 to its confirmation (``HX-Redirect`` for htmx), or 422 and the form."""
    catalog = current_catalog()
    # The plan and kind ride along as hidden fields and decide which counts are asked: read
    # as the form reads them (stripped, from a form or JSON), then the form for them.
    sent = CallbackForm(catalog=catalog)
    callback_form = quote_form(catalog, sent.plan.data, sent.kind.data or "")
    if not callback_form.validate():
        give_back_hit()  # a form sent back with a mistake is no call asked for
        if callback_form.options.errors:
            callback_form.options.data = ""  # so that sending again works
        return _form_page(catalog, callback_form, 422)
    try:
        taken = services.request_callback(
            db.session, catalog, callback_form.details(locale_code()), now()
        )
    except services.CallbackError as error:
        # What the form let through and the service refuses (a form of another version):
        # said beside the field at fault, never a 500.
        give_back_hit()
        at_fault = callback_form._fields.get(error.field)
        message = _("This is not what the request needs: check it and send the form again.")
        (at_fault.errors if at_fault is not None else callback_form.form_errors).append(message)
        return _form_page(catalog, callback_form, 422)
    confirmation = url_for("callbacks.confirmation", token=taken.token)
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = confirmation
    else:
        response = redirect(confirmation, 303)
    response.vary.add("HX-Request")
    return response


def _form_page(catalog: Catalog, callback_form: CallbackForm, status: int):
    """The whole page, or only the form for an htmx request aimed at it."""
    plan_code = callback_form.plan.data
    kind = callback_form.kind.data
    context = {
        "form": callback_form,
        "catalog": catalog,
        "plan": catalog.plans.get(plan_code) if plan_code else None,
        "kind": kind if kind in CALLBACK_KINDS else "callback",
        "phone_example": _in_digits(services.example_number(callback_form.region)),
        "looking_at": looking_at(catalog, callback_form.options.data or "", now()),
    }
    fragment = htmx and htmx.target == FORM_TARGET
    template = "callbacks/_form.html" if fragment else "callbacks/form.html"
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


@bp.get("/callback/<token>")
def confirmation(token: str):
    current_catalog()  # the page speaks the catalog's language unless the user chose one
    if not TOKEN.fullmatch(token):
        abort(404)
    taken = services.find_by_token(db.session, token)
    if taken is None:
        abort(404)
    catalog = catalogs.catalog_version(db.session, taken.catalog, taken.catalog_version)
    return render_template(
        "callbacks/confirmation.html",
        request_=taken,
        catalog=catalog,
        plan=catalog.plans.get(taken.plan) if taken.plan else None,
        due=_moment(taken.due_at, catalog),
        due_iso=_local_iso(taken.due_at, catalog),
        city=_city(catalog),
        phone=digits(services.readable_phone(taken.phone)),
        looking_at=looking_at(catalog, taken.options, taken.created_at),
        counts=count_words(catalog, taken.counts),
        comparison_url=_comparison_url(taken),
    )


@bp.get("/staff/callbacks")
@staff_required
def staff_list():
    """Open requests, oldest first, a page at a time, each with its promised time and whether
    it is overdue; searched by name, phone and company."""
    current_catalog()
    moment = now()
    asked = ListQuery.from_args(request.args)
    page = page_of(db.session, services.open_request_list(asked.search), asked)
    rows = [
        _staff_row(
            open_request,
            catalogs.catalog_version(
                db.session, open_request.catalog, open_request.catalog_version
            ),
            moment,
        )
        for open_request in page.items
    ]
    html = render_template("callbacks/staff_list.html", rows=rows, page=page)
    response = make_response(html)
    response.vary.add("HX-Request")
    return response


@bp.post("/staff/callbacks/<id:request_id>/close")
@staff_required
def close(request_id: int):
    """Done: the row goes (htmx) or the list comes back (plain form); a second close is harmless."""
    if services.close_request(db.session, request_id, current_user, now()) is None:
        abort(404)
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Trigger"] = "callbackClosed"
    else:
        response = redirect(url_for("callbacks.staff_list"), 303)
    response.vary.add("HX-Request")
    return response


def _staff_row(open_request: CallbackRequest, catalog: Catalog, moment) -> dict:
    plan = catalog.plans.get(open_request.plan) if open_request.plan else None
    return {
        "request": open_request,
        "catalog": catalog,
        "plan": plan,
        "kind": KIND_LABELS.get(open_request.kind, open_request.kind),
        "preferred_time": PREFERRED_TIME_LABELS.get(
            open_request.preferred_time, open_request.preferred_time
        ),
        "phone": digits(services.readable_phone(open_request.phone)),
        "created": _moment(open_request.created_at, catalog),
        "due": _moment(open_request.due_at, catalog),
        "due_iso": _local_iso(open_request.due_at, catalog),
        "created_iso": _local_iso(open_request.created_at, catalog),
        "overdue": open_request.is_overdue(moment),
        "comparison_url": _comparison_url(open_request),
        "looking_at": looking_at(catalog, open_request.options, open_request.created_at),
        "counts": count_words(catalog, open_request.counts),
        "city": _city(catalog),
    }


def count_words(catalog: Catalog, counts: dict) -> str | None:
    """A quote's counts as said: "120 cash registers, 14 stores"; units the catalog no
    longer has are left out."""
    said = [
        counted(catalog.units[unit], count, catalog)
        for unit, count in (counts or {}).items()
        if unit in catalog.units and isinstance(count, int)
    ]
    return enumeration(said) or None


def _in_digits(text: str | None) -> str | None:
    """A phone example in the reader's digits; None where the country has none."""
    return digits(text) if text else None


def _comparison_url(taken: CallbackRequest) -> str:
    """The comparison the client was looking at when they asked."""
    return home_url() + ("?" + taken.options if taken.options else "")


def looking_at(catalog: Catalog, options: str, asked_at) -> str | None:
    """The comparison's choice carried by a request (``term=7m&…``), in words, read as it
    was on the day it was asked (a budget year or a start that has passed since stays)."""
    if not options:
        return None
    day = asked_at.astimezone(ZoneInfo(catalog.timezone)).date()
    choice = read_choice(catalog, dict(parse_qsl(options)), day)
    return enumeration(choice_words(catalog, choice)) or None


def _moment(value, catalog: Catalog) -> str | None:
    if value is None:
        return None
    return formatting.moment(value, locale_code(), catalog.timezone)


def _local_iso(value, catalog: Catalog) -> str | None:
    """ISO 8601 in the catalog's time zone, for ``<time datetime>``."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(catalog.timezone)).isoformat()


def _city(catalog: Catalog) -> str:
    return city_name(catalog.timezone)
