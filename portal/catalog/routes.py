"""Public pages of the catalog: the comparison and the plan detail."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal.billing.orders import current_period
from portal.catalog import bp, rendering
from portal.catalog.comparison import compare, read_choice
from portal.catalog.current import current_catalog, next_change, previewing
from portal.catalog.detail import plan_detail
from portal.catalog.month_picker import DATE_FIELDS, month_picker
from portal.catalog.wording import locale_code
from portal.clock import today_in
from portal.extensions import db, htmx
from portal.formatting import gregorian_date_text
from portal.headers import image_answer, private

COMPARISON_TARGET = "comparison"


def _client_period(catalog):
    """The signed-in client's latest period in ``catalog``, which an order would follow."""
    if not current_user.is_authenticated or current_user.organization_id is None:
        return None
    return current_period(db.session, current_user.organization_id, catalog.code)


@bp.get("/")
@bp.get("/plans")
def comparison():
    """Plans side by side for the chosen term and options.

    An htmx request aimed at the comparison gets only that fragment (with the
    field errors and the status line swapped out of band); anything else, the
    full page. A mistake in the choice answers 400 with the message beside the
    field, in both cases.
    """
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    choice = read_choice(catalog, request.args, today, _client_period(catalog))
    fragment = bool(htmx) and htmx.target == COMPARISON_TARGET
    # The comparison depends on the catalog version, the language, the date and the choice
    # alone: rendered once for those, it is served again to everyone who makes that choice.
    shown = request.args.get("show") if request.args.get("show") in catalog.plans else None
    version = rendering.version_key(catalog)
    key = (*version, locale_code(), today, fragment, choice.key(), shown) if version else None
    content = rendering.parts.get_or_render(
        key,
        lambda: render_template(
            "catalog/_comparison.html" if fragment else "catalog/_comparison_page.html",
            oob=fragment,
            comparison=compare(catalog, choice, today, shown),
        ),
    )
    if fragment:
        response = make_response(content)
    else:
        response = make_response(
            render_template(
                "catalog/index.html",
                catalog=catalog,
                choice=choice,
                content=content,
                price_change=None if previewing() else _change_day(catalog),
            )
        )
    response.status_code = 400 if choice.errors else 200
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    if fragment:
        response.headers["HX-Trigger"] = "priceChanged"
        # The address to share: what was chosen, without empty fields and defaults, and the
        # language it was read in, so that whoever opens it sees the same page.
        response.headers["HX-Push-Url"] = url_for(
            "catalog.comparison",
            **choice.query(),
            **({"show": shown} if shown else {}),
            lang=locale_code(),
        )
    return response


def _change_day(catalog) -> date | None:
    """The day a scheduled version's prices take effect, in the catalog's zone."""
    moment = next_change()
    return moment.astimezone(ZoneInfo(catalog.timezone)).date() if moment else None


@bp.get("/favicon.ico")
def favicon():
    """Browsers that ask for the old address get the portal's icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/provider/logo")
def provider_logo():
    """The provider's logo as the catalog version in effect ships it.

    Addressed with the version (``?v=3``) by the pages, so it is cached for long and a new
    version's logo is fetched afresh. An SVG opened directly runs no script (sandbox).
    """
    catalog = current_catalog()
    logo = catalog.provider.logo if catalog.provider else None
    if logo is None:
        abort(404)
    response = image_answer(logo)
    if catalog.version is None:
        # A draft's logo, to the admin previewing it: never kept, it may change any minute.
        return private(response)
    versioned = request.args.get("v") == str(catalog.version)
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if versioned else "public, max-age=300"
    )
    return response


@bp.get("/date-picker")
def date_picker():
    """A month of a date field's picker (an htmx fragment): ``field``, its typed value under
    the field's own name, ``month`` to show, ``earliest`` day that may be picked."""
    field = request.args.get("field", "")
    if field not in DATE_FIELDS:
        abort(404)
    catalog = current_catalog()
    today = today_in(catalog.timezone)
    picker = month_picker(
        field,
        locale_code(),
        request.args.get("month"),
        _typed_day(request.args.get(field, "")),
        _typed_day(request.args.get("earliest", "")),
        today,
    )
    response = make_response(render_template("catalog/_month_picker.html", picker=picker))
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _typed_day(typed: str):
    """A day as the field holds it (any calendar the reader types), or None."""
    text = gregorian_date_text(typed) if typed else None
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("/terms")
def terms():
    """The provider's terms of service, as the registration's checkbox agrees to them."""
    catalog = current_catalog()
    return render_template("catalog/terms.html", catalog=catalog, provider=catalog.provider)


@bp.get("/plans/<code>")
def plan(code: str):
    catalog = current_catalog()
    if code not in catalog.plans:
        abort(404)
    today = today_in(catalog.timezone)
    choice = read_choice(catalog, request.args, today, _client_period(catalog))
    detail = plan_detail(catalog, catalog.plans[code], choice, today)
    response = make_response(render_template("catalog/plan.html", detail=detail))
    response.status_code = 400 if choice.errors else 200
    return response
