"""The catalog draft, for admins: its price tables as grids (htmx saves a cell as the admin
leaves it, with the catalog file's validation beside the cell), a bulk change previewed
cell by cell before it enters the draft, its sections as TOML, the changes against the
published version, a preview of the public pages with its prices, import and export, and
publishing it now or from a day. Thin views over :mod:`portal.catalog.drafts`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import jobs
from portal.accounts.access import admin_required
from portal.admin import bp
from portal.audit import Actor
from portal.catalog import drafts, services
from portal.catalog.current import PREVIEW_KEY, published_catalog
from portal.catalog.wording import (
    billing_name,
    duration_name,
    locale_code,
    number,
    number_plain,
    term_name,
)
from portal.clock import now, today_in
from portal.extensions import db, htmx
from portal.formatting import day, gregorian_date_text, moment
from portal.headers import image_answer, private
from portal.i18n import LANGUAGE_NAMES, LOCALES
from portal.plans import CatalogError, Term, editing

MAX_UPLOAD = 512 * 1024
TABLE_TITLES = {
    "terms": _l("Prices by term"),
    "loyalty": _l("Loyalty prices, on a continuous renewal"),
    "unit_prices": _l("Prices per unit"),
    "billing": _l("Discount by billing period, %"),
    "percent": _l("Price as a share of the licence value a year, %"),
    "discounts": _l("Multi-year discounts, on a continuous renewal, %"),
    "services": _l("Services and extras"),
}
# The grids whose cells are percentages, not amounts of the catalog's currency.
PERCENT_TABLES = frozenset({"billing", "percent", "discounts"})
SECTION_TITLES = {
    "catalog": _l("Catalog: name, currency, languages, payment methods"),
    "provider": _l("Provider: contacts, legal and bank details, VAT, terms"),
    "calendars": _l("Working calendars: hours, holidays, exceptions"),
    "callback": _l("Call-back requests"),
    "units": _l("Units"),
    "feature_groups": _l("Feature groups"),
    "features": _l("Features"),
    "sla_targets": _l("SLA targets"),
    "work": _l("Work time and connections"),
    "visits": _l("On-site visits: blocks and quotas"),
    "services": _l("Services and extras"),
    "labels": _l("Labels"),
    "plans": _l("Plans: names, order, features, SLA, prices"),
}
EDIT_ERRORS = {
    "not_a_number": _l("Type a number, such as 44000 or 1500.50."),
    "negative": _l("A price cannot be negative."),
    "too_many_decimals": _l("At most two digits after the decimal point."),
    "too_large": _l("This number is too large for a price."),
    "not_toml": _l("This is not valid TOML: %(reason)s"),
    "other_section": _l("This box edits [%(section)s] only; it also holds: %(found)s."),
    "unknown_section": _l("There is no such section."),
    "not_a_table": _l("This place of the catalog holds a value, not a table."),
    "bad_step": _l("Round to a positive amount, such as 10 or 0.01."),
    "plan_exists": _l("The catalog has a plan %(plan)s already."),
    "unknown_plan": _l("Choose the plan to copy."),
    "plans_changed": _l("The plans changed meanwhile: look at them again."),
    "cannot_move": _l(
        "This file's plans are spread among other sections: "
        "move them in the plans' part of the file."
    ),
}


def _actor() -> Actor:
    return Actor(current_user.id, current_user.email)


def _name() -> str:
    return published_catalog().code


def _draft_or_404():
    draft = drafts.draft_of(db.session, _name())
    if draft is None:
        abort(404)
    return draft


def _cell_label(grid: editing.Grid, row: str, catalog) -> str:
    """A grid's row as the admin reads it: a term, a unit, a billing period, a service."""
    if grid.table == "percent":
        return _("Of the licence value")
    if grid.table == "services" and row in catalog.services:
        return catalog.services[row].name.get_for(locale_code(), catalog.locale)
    if grid.table in ("terms", "loyalty", "discounts"):
        if row == "budget":
            return _("Budget year")
        try:
            return term_name(Term.parse(row))
        except ValueError:
            return row
    if grid.table == "unit_prices" and row in catalog.units:
        return catalog.units[row].name.get_for(locale_code(), catalog.locale)
    if grid.table == "billing":
        return billing_name(row)
    return row


def _amount(value) -> str:
    """A catalog value as the admin reads it: numbers grouped in the page's language."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return number(Decimal(editing.shown(value)))
    return editing.shown(value) or "—"


def _plan_label(code: str, catalog) -> str:
    if code == "price" and code not in catalog.plans:
        return _("Price")
    plan = catalog.plans.get(code)
    return plan.name.get_for(locale_code(), catalog.locale) if plan else code


def _error_text(error: drafts.DraftError) -> str:
    """A refused save in the admin's words."""
    if error.code == "edit":
        edit = error.params["error"]
        return str(EDIT_ERRORS.get(edit.code, edit.code)) % edit.params
    if error.code == "invalid":
        located: CatalogError = error.params["error"]
        if not located.path:
            return _("The catalog would not be valid: %(reason)s", reason=located.reason)
        return _(
            "The catalog would not be valid: %(path)s %(reason)s",
            path=located.path,
            reason=located.reason,
        )
    if error.code == "other_catalog":
        return _("This file is catalog “%(found)s”; the portal runs “%(name)s”.", **error.params)
    if error.code == "stale":
        return _(
            "%(who)s saved the draft at %(when)s meanwhile; yours was not saved.",
            who=_isolated(error.params["by"]),
            when=moment(error.params["at"], locale_code(), published_catalog().timezone),
        )
    if error.code == "base_moved":
        return _(
            "Version %(version)s was published after this draft was started from version "
            "%(base)s; publishing the draft would undo its changes. Discard the draft and "
            "start again from version %(version)s.",
            version=number_plain(error.params["version"]),
            base=number_plain(error.params["base"]),
        )
    if error.code == "too_early":
        return _(
            "A version already takes effect on %(day)s: publish from that day or later.",
            day=moment(error.params["after"], locale_code(), published_catalog().timezone),
        )
    if error.code == "no_changes":
        return _("The draft changes nothing: there is nothing to publish.")
    return _("There is no draft: start one first.")


def _isolated(text: str) -> str:
    """An e-mail address inside a sentence, in its own direction (on Persian pages too)."""
    return f"\u2068{text}\u2069"


def _draft_gone():
    """The answer when another admin published or discarded the draft a moment ago: to the
    catalog's versions (htmx follows too), saying so."""
    flash(
        _("Another admin published or discarded the draft meanwhile; your change was not saved."),
        "error",
    )
    target = url_for("admin.catalog_versions")
    if htmx:
        response = private("", 409)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


def _refused(error: drafts.DraftError, endpoint: str = "admin.draft", **args):
    flash(_error_text(error), "error")
    return redirect(url_for(endpoint, **args), 303)


# --- the draft ------------------------------------------------------------------------------


@bp.get("/admin/catalog/draft")
@admin_required
def draft():
    """The draft's price tables, its bulk change and its sections; or an offer to start one."""
    draft = drafts.draft_of(db.session, _name())
    published = published_catalog()
    if draft is None:
        return private(render_template("admin/draft_none.html", catalog=published))
    try:
        page = _draft_page(draft)
    except CatalogError as error:
        # Only a draft older than this check can be one (its files changed under it): say
        # why, and offer to discard it or upload a file in its place.
        broken = _error_text(drafts.DraftError("invalid", error=error))
        html = render_template("admin/draft_none.html", catalog=published, broken=broken)
        return private(html, 409)
    return private(render_template("admin/draft.html", **page))


def _draft_page(draft, bulk=None, errors=None, typed=None) -> dict:
    catalog = drafts.draft_catalog(db.session, draft)
    data = editing.read(draft.source)
    return {
        "draft": draft,
        "catalog": catalog,
        "changes": drafts.changes(db.session, draft),
        "grids": editing.grids(data),
        "features": editing.feature_matrix(data),
        "sla": editing.sla_matrix(data),
        "payment_choices": PAYMENT_CHOICES,
        "calendars": data.get("calendars", {}),
        "weekday_names": _weekday_names(),
        "weekdays": editing.WEEKDAYS,
        "exceptions_text": editing.exceptions_text,
        "payment_was": editing.shown(editing.value_at(data, "catalog.payment_methods")),
        "sla_parts": editing.sla_parts,
        "units": UNIT_LABELS,
        "feature_shown": editing.feature_shown,
        "editable_kinds": editing.EDITABLE_KINDS,
        "duration_name": duration_name,
        "cell_label": lambda grid, row: _cell_label(grid, row, catalog),
        "plan_label": lambda code: _plan_label(code, catalog),
        "shown": editing.shown,
        "amount": _amount,
        "titles": TABLE_TITLES,
        "percent_tables": PERCENT_TABLES,
        "cell_of": editing.cell_of,
        "sections": [(code, SECTION_TITLES[code]) for code in editing.SECTIONS if code in data],
        "bulk": bulk,
        "bulk_form": typed or {},
        "errors": errors or {},
        "tomorrow": today_in(catalog.timezone) + timedelta(days=1),
        "scheduled": services.scheduled_versions(db.session, draft.name, now()),
        "name_locales": _name_locales(catalog),
        "plan_order": ",".join(editing.plan_codes(data)),
        "plan_data": data.get("plans", {}),
        "locale_names": dict(LANGUAGE_NAMES),
    }


@bp.post("/admin/catalog/draft")
@admin_required
def start_draft():
    try:
        drafts.start_draft(db.session, _name(), _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _refused(error, "admin.catalog_versions")
    return redirect(url_for("admin.draft"), 303)


@bp.post("/admin/catalog/draft/discard")
@admin_required
def discard_draft():
    drafts.discard(db.session, _name(), _actor(), now())
    session.pop(PREVIEW_KEY, None)
    flash(_("The draft is discarded; the published catalog is as it was."))
    return redirect(url_for("admin.catalog_versions"), 303)


# --- the grid -------------------------------------------------------------------------------


def _typed_cells(form) -> dict[str, tuple[str, str]]:
    """The grid's cells as posted: ``cell.<path>`` typed, ``was.<path>`` as it was shown."""
    return {
        key.removeprefix("cell."): (form.get(f"was.{key.removeprefix('cell.')}", ""), value)
        for key, value in form.items()
        if key.startswith("cell.")
    }


class _DraftGone(Exception):
    """The draft was published or discarded by another admin a moment ago."""


@bp.errorhandler(_DraftGone)
def _gone(_error):
    return _draft_gone()


def _write_cells(draft, asked: dict, refusal):
    """Write the cells ``asked`` ({path: (as it was shown, parse)}) into the draft when each
    one's ``parse()`` reads and none is refused; ``refusal(error)`` words an unreadable
    one. Returns (draft, changed, errors by path, status, stale cells by path): 200, 422
    (an unreadable value, or one the catalog cannot take, beside its cell), 409 (a cell
    another admin changed meanwhile, with their value)."""
    changed, errors, stale = {}, {}, {}
    for path, (was, parse) in asked.items():
        try:
            value = parse()
        except editing.EditError as error:
            errors[path] = refusal(error)
            continue
        if editing.shown(value) != was:
            changed[path] = (was, value)
    status = 422 if errors else 200
    if changed and not errors:
        try:
            draft = drafts.save_values(db.session, draft.name, changed, _actor(), now())
        except drafts.DraftError as error:
            if error.code == "no_draft":
                raise _DraftGone() from None
            status = 409 if error.code == "stale" else 422
            if error.code == "stale":
                stale = {item.path: item for item in error.params["stale"]}
                errors.update({path: _stale_text(error, item) for path, item in stale.items()})
            else:
                errors.update(_located(error, changed))
    return draft, changed, errors, status, stale


def _located(error: drafts.DraftError, changed: dict) -> dict:
    """The catalog's refusal beside the cell it is about (the only one, or the one its path
    names; else the first)."""
    message = _error_text(error)
    at = getattr(error.params.get("error"), "path", "")
    placed = {path: message for path in changed if len(changed) == 1 or at.startswith(path)}
    return placed or {next(iter(changed)): message}


def _matrix_page(draft, changed, errors, status, saved: str, anchor: str):
    """The answer of a matrix saved whole (without JavaScript): the page with the refusals
    beside their cells, or back to it saying what was saved."""
    if errors:
        return private(
            render_template("admin/draft.html", **_draft_page(draft, errors=errors)), status
        )
    flash(saved if changed else _("Nothing changed."))
    return redirect(url_for("admin.draft") + anchor, 303)


@bp.post("/admin/catalog/draft/cells")
@admin_required
def save_cells():
    """Save the grid: one cell (``?path=``, as htmx does when the admin leaves it) or every
    cell that changed (the form's button, without JavaScript). A cell answers with itself:
    saved, or its value refused with why beside it (422), or taken by another admin's save
    (409, with their value)."""
    draft = _draft_or_404()
    cells = {p: v for p, v in _typed_cells(request.form).items() if editing.cell_of(p) is not None}
    only = request.args.get("path")
    if only is not None:
        if only not in cells:
            abort(400)
        cells = {only: cells[only]}
    asked = {
        path: (was, lambda typed=typed: editing.parse_amount(typed))
        for path, (was, typed) in cells.items()
    }
    draft, changed, errors, status, stale = _write_cells(draft, asked, _edit_refusal)
    if only is not None:
        was, typed = cells[only]
        if only in stale:
            was = typed = stale[only].now_is
        elif only not in errors:
            was = typed = editing.shown(editing.value_at(editing.read(draft.source), only))
        return _cell_answer(
            "admin/_grid_cell.html", draft, only, typed, was, errors, changed, status
        )
    return _matrix_page(
        draft, changed, errors, status, _("The price tables are saved in the draft."), ""
    )


def _stale_text(error: drafts.DraftError, stale: drafts.Stale) -> str:
    return _(
        "%(who)s changed this to %(value)s at %(when)s; yours (%(yours)s) was not saved.",
        who=_isolated(error.params["by"]),
        value=stale.now_is or _("nothing"),
        when=moment(error.params["at"], locale_code(), published_catalog().timezone),
        yours=stale.yours_was or _("nothing"),
    )


# --- the feature matrix ---------------------------------------------------------------------


@bp.post("/admin/catalog/draft/features")
@admin_required
def save_features():
    """Save the feature matrix: one cell (``?path=``, htmx as it changes) or every cell that
    changed; yes-no and quantity features (texts and durations are edited in the plans'
    part of the file). Answers as the price grid does: 200, 422 beside the cell, 409 stale."""
    draft = _draft_or_404()
    kinds, _plans, cells = editing.feature_matrix(editing.read(draft.source))
    kind_of = dict(kinds)
    editable = {
        cell.path: kind_of[code]
        for (code, _plan), cell in cells.items()
        if kind_of[code] in editing.EDITABLE_KINDS
    }
    only = request.args.get("path")
    if only is not None and (only not in editable or f"feature.{only}" not in request.form):
        abort(400)
    asked = [only] if only is not None else [p for p in editable if f"feature.{p}" in request.form]
    cells = {
        path: (
            request.form.get(f"was.{path}", ""),
            lambda path=path: editing.parse_feature(
                editable[path], request.form[f"feature.{path}"]
            ),
        )
        for path in asked
    }
    draft, changed, errors, status, _stale = _write_cells(draft, cells, _feature_refusal)
    if only is None:
        return _matrix_page(
            draft, changed, errors, status, _("The features are saved in the draft."), "#features"
        )
    kind = editable[only]
    current = editing.value_at(editing.read(draft.source), only)
    refused = status == 422
    return _cell_answer(
        "admin/_feature_cell.html",
        draft,
        only,
        request.form[f"feature.{only}"] if refused else editing.feature_shown(kind, current),
        request.form.get(f"was.{only}", "") if refused else editing.shown(current),
        errors,
        changed,
        status,
        kind=kind,
    )


def _cell_answer(template, draft, path, typed, was, errors, changed, status, **more):
    """A grid cell as htmx swaps it in: its value, as it was shown, why a save was refused or
    that it was saved, and the draft's status beside it (out of band)."""
    response = private(
        render_template(
            template,
            path=path,
            typed=typed,
            was=was,
            error=errors.get(path),
            saved=path in changed and path not in errors,
            draft=draft,
            changes=drafts.changes(db.session, draft),
            cell_of=editing.cell_of,
            oob=True,
            **more,
        ),
        status,
    )
    response.vary.add("HX-Request")
    return response


# --- service levels ---------------------------------------------------------------------------

UNIT_LABELS = {
    "minutes": _l("minutes"),
    "hours": _l("hours"),
    "days": _l("days"),
    "working_minutes": _l("working minutes"),
    "working_hours": _l("working hours"),
    "working_days": _l("working days"),
}


@bp.post("/admin/catalog/draft/sla")
@admin_required
def save_sla():
    """Save the SLA matrix: one plan's target (``?path=``, htmx as it changes) or every one
    that changed: an amount (``4``, or ``1.5-2.5`` for a range) in a unit; empty, no target.
    Answers as the price grid does: 200, 422 beside the cell, 409 stale."""
    draft = _draft_or_404()
    targets, plans, _cells = editing.sla_matrix(editing.read(draft.source))
    paths = [f"plans.{plan}.sla.{target}" for target in targets for plan in plans]
    only = request.args.get("path")
    if only is not None and (only not in paths or f"sla.{only}.amount" not in request.form):
        abort(400)
    asked = [only] if only is not None else [p for p in paths if f"sla.{p}.amount" in request.form]
    cells = {
        path: (
            request.form.get(f"was.{path}", ""),
            lambda path=path: editing.parse_sla(
                request.form[f"sla.{path}.amount"], request.form.get(f"sla.{path}.unit", "")
            ),
        )
        for path in asked
    }
    draft, changed, errors, status, _stale = _write_cells(draft, cells, _sla_refusal)
    if only is None:
        return _matrix_page(
            draft, changed, errors, status, _("The service levels are saved in the draft."), "#sla"
        )
    current = editing.value_at(editing.read(draft.source), only)
    amount, unit = editing.sla_parts(current)
    refused = status == 422
    return _cell_answer(
        "admin/_sla_cell.html",
        draft,
        only,
        request.form[f"sla.{only}.amount"] if refused else amount,
        request.form.get(f"was.{only}", "") if refused else editing.shown(current),
        errors,
        changed,
        status,
        unit=request.form.get(f"sla.{only}.unit", unit) if refused else unit,
        units=UNIT_LABELS,
    )


def _edit_refusal(error: editing.EditError) -> str:
    return str(EDIT_ERRORS[error.code]) % error.params


def _feature_refusal(error: editing.EditError) -> str:
    """A feature's or a target's value refused: in the matrix's words, else the grid's."""
    return str(FEATURE_ERRORS.get(error.code) or EDIT_ERRORS.get(error.code, "")) % error.params


def _sla_refusal(error: editing.EditError) -> str:
    """A target refused: in the grid's words (a number), else the matrix's (a unit)."""
    return str(EDIT_ERRORS.get(error.code) or FEATURE_ERRORS["unknown_unit"]) % error.params


FEATURE_ERRORS = {
    "unknown_unit": _l("Choose a unit."),
    "yes_or_no": _l("Choose yes or no."),
    "not_editable": _l("This feature is edited in the plans' part of the file."),
    "not_a_number": _l("Type a number, or ∞ for unlimited."),
}


# --- plans ----------------------------------------------------------------------------------

_PLAN_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_NAME = 200
NAME_TOO_LONG = _l("A plan's name has at most %(count)s characters.")


def _name_locales(catalog) -> tuple[str, ...]:
    """The languages plans are named in here: English, the catalog's, and any a plan uses."""
    used = {"en", catalog.locale}
    for plan in catalog.plans.values():
        used.update(plan.name)
    return tuple(code for code in LOCALES if code in used)


def _typed_name(form, locales) -> dict[str, str]:
    return {
        code: form.get(f"name.{code}", "").strip()
        for code in locales
        if form.get(f"name.{code}", "").strip()
    }


@bp.post("/admin/catalog/draft/plans/<code>")
@admin_required
def save_plan(code: str):
    """A plan's names and whether it is still offered to new clients (archived or not)."""
    draft = _draft_or_404()
    catalog = drafts.draft_catalog(db.session, draft)
    if code not in catalog.plans:
        abort(404)
    names = _typed_name(request.form, _name_locales(catalog))
    if not names:
        return _plan_refused(draft, code, _("Give the plan a name in at least one language."))
    if any(len(name) > MAX_NAME for name in names.values()):
        return _plan_refused(draft, code, str(NAME_TOO_LONG) % {"count": MAX_NAME})
    archived = True if request.form.get("archived") == "1" else None
    values = {
        f"plans.{code}.name": (request.form.get("was_name", ""), names),
        f"plans.{code}.archived": (request.form.get("was_archived", ""), archived),
    }
    data = editing.read(draft.source)
    values = {
        path: (was, new)
        for path, (was, new) in values.items()
        if editing.shown(new) != editing.shown(editing.value_at(data, path))
    }
    if not values:
        flash(_("Nothing changed."))
        return redirect(url_for("admin.draft") + f"#plan-{code}", 303)
    try:
        drafts.save_values(db.session, draft.name, values, _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _plan_refused(draft, code, _error_text(error), 409 if error.code == "stale" else 422)
    flash(_("The plan is saved in the draft."))
    return redirect(url_for("admin.draft") + f"#plan-{code}", 303)


def _plan_refused(draft, code: str, message: str, status: int = 422):
    page = _draft_page(draft, errors={f"plan.{code}": message})
    return private(render_template("admin/draft.html", **page), status)


@bp.post("/admin/catalog/draft/plans/<code>/move")
@admin_required
def move_plan(code: str):
    """A plan one place earlier or later in the comparison."""
    draft = _draft_or_404()
    order = list(editing.plan_codes(editing.read(draft.source)))
    if code not in order:
        abort(404)
    was = [c for c in request.form.get("was", "").split(",") if c]
    at = order.index(code)
    to = at - 1 if request.form.get("direction") == "up" else at + 1
    if not 0 <= to < len(order):
        return redirect(url_for("admin.draft") + "#plans", 303)
    order[at], order[to] = order[to], order[at]
    try:
        drafts.reorder_plans(db.session, draft.name, order, was, _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _plan_refused(draft, code, _error_text(error), 409 if error.code == "stale" else 422)
    return redirect(url_for("admin.draft") + f"#plan-{code}", 303)


@bp.post("/admin/catalog/draft/plans")
@admin_required
def add_plan():
    """A new plan, a copy of another to edit: its prices, features and service levels."""
    draft = _draft_or_404()
    catalog = drafts.draft_catalog(db.session, draft)
    code = request.form.get("code", "").strip()
    source = request.form.get("source", "")
    names = _typed_name(request.form, _name_locales(catalog))
    errors = {}
    if not _PLAN_CODE.fullmatch(code):
        errors["new.code"] = _(
            "A code is lower-case Latin letters, digits and dashes, such as optima-plus."
        )
    elif code in catalog.plans:
        errors["new.code"] = str(EDIT_ERRORS["plan_exists"]) % {"plan": code}
    if source not in catalog.plans:
        errors["new.source"] = str(EDIT_ERRORS["unknown_plan"])
    if not names:
        errors["new.name"] = _("Give the plan a name in at least one language.")
    elif any(len(name) > MAX_NAME for name in names.values()):
        errors["new.name"] = str(NAME_TOO_LONG) % {"count": MAX_NAME}
    if not errors:
        try:
            drafts.add_plan(db.session, draft.name, source, code, names, _actor(), now())
        except drafts.DraftError as error:
            if error.code == "no_draft":
                return _draft_gone()
            errors["new.code"] = _error_text(error)
        else:
            flash(_("Plan %(code)s is added to the draft: set its prices below.", code=code))
            return redirect(url_for("admin.draft") + f"#plan-{code}", 303)
    page = _draft_page(draft, errors=errors, typed={"new": request.form})
    return private(render_template("admin/draft.html", **page), 422)


# --- the bulk change ------------------------------------------------------------------------


def _read_bulk(form, catalog) -> tuple[dict, dict]:
    """The bulk change asked for, and what is wrong with it, field by field."""
    errors = {}
    plans = [code for code in form.getlist("plan") if code in catalog.plans]
    if not plans:
        errors["plan"] = _("Choose at least one plan.")
    tables = [table for table in form.getlist("table") if table in ("terms", "loyalty")]
    if not tables:
        errors["table"] = _("Choose the prices to change.")
    asked = {"plans": plans, "tables": tables}
    for field in ("percent", "step"):
        try:
            typed = form.get(field, "").strip().replace(",", ".")
            value = Decimal(typed.lstrip("+-")) if typed else None
            if value is None or not value.is_finite() or abs(value) > 10**9:
                raise ArithmeticError
            asked[field] = -value if typed.startswith("-") else value
        except ArithmeticError:
            errors[field] = (
                _("Type a percentage, such as 8 or -5.")
                if field == "percent"
                else _("Type the amount to round to, such as 10.")
            )
    if "percent" in asked and not Decimal(-100) < asked["percent"] <= Decimal(1000):
        errors["percent"] = _("Between -100% and 1000%.")
    if "step" in asked and not (
        editing.MIN_STEP <= asked["step"] <= 10**9
        and asked["step"] == asked["step"].quantize(editing.MIN_STEP)
    ):
        errors["step"] = str(EDIT_ERRORS["bad_step"])
    return asked, errors


@bp.post("/admin/catalog/draft/bulk")
@admin_required
def bulk_change():
    """Preview a bulk change (every new cell beside its old value), or, confirmed with the
    previewed cells, write it into the draft: a cell another admin changed since the preview
    refuses the whole change."""
    draft = _draft_or_404()
    catalog = drafts.draft_catalog(db.session, draft)
    asked, errors = _read_bulk(request.form, catalog)
    typed = {
        "plans": request.form.getlist("plan"),
        "tables": request.form.getlist("table"),
        "percent": request.form.get("percent", ""),
        "step": request.form.get("step", ""),
    }
    if errors:
        return private(
            render_template("admin/draft.html", **_draft_page(draft, errors=errors, typed=typed)),
            422,
        )
    proposed = editing.bulk_change(
        editing.read(draft.source), asked["plans"], asked["tables"], asked["percent"], asked["step"]
    )
    if request.form.get("confirm") != "1":
        return private(
            render_template("admin/draft.html", **_draft_page(draft, bulk=proposed, typed=typed))
        )
    previewed = _typed_cells(request.form)
    values = {
        change.path: (previewed[change.path][0], change.after)
        for change in proposed
        if change.path in previewed
    }
    if set(values) != {change.path for change in proposed}:
        flash(_("The draft changed since the preview: look at the new preview."), "error")
        return private(
            render_template("admin/draft.html", **_draft_page(draft, bulk=proposed, typed=typed)),
            409,
        )
    try:
        drafts.save_values(db.session, draft.name, values, _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _refused(error)
    flash(_("%(count)s prices changed in the draft.", count=number(len(values))))
    return redirect(url_for("admin.draft"), 303)


# --- sections -------------------------------------------------------------------------------


@bp.route("/admin/catalog/draft/sections/<section>", methods=["GET", "POST"])
@admin_required
def draft_section(section: str):
    """One section of the draft as TOML, saved whole with the catalog file's validation."""
    if section not in editing.SECTIONS:
        abort(404)
    draft = _draft_or_404()
    current = editing.section_text(draft.source, section)
    typed, was, error, status = current, current, None, 200
    if request.method == "POST":
        typed = request.form.get("source", "").replace("\r\n", "\n")
        was = request.form.get("was", "").replace("\r\n", "\n")
        try:
            drafts.replace_section(db.session, draft.name, section, typed, was, _actor(), now())
        except drafts.DraftError as refused:
            if refused.code == "no_draft":
                return _draft_gone()
            error, status = _error_text(refused), 409 if refused.code == "stale" else 422
            if refused.code == "stale":
                was = current  # saving again replaces theirs, knowingly
        else:
            flash(_("The section is saved in the draft."))
            return redirect(url_for("admin.draft_section", section=section), 303)
    return private(
        render_template(
            "admin/draft_section.html",
            draft=draft,
            section=section,
            title=SECTION_TITLES[section],
            typed=typed,
            was=was,
            current=current,
            error=error,
        ),
        status,
    )


# --- changes, preview, import and export ----------------------------------------------------


@bp.get("/admin/catalog/draft/changes")
@admin_required
def draft_changes():
    """Every value of the draft that differs from the newest published version."""
    draft = _draft_or_404()
    return private(
        render_template(
            "admin/draft_changes.html",
            draft=draft,
            changes=drafts.changes(db.session, draft),
            amount=_amount,
        )
    )


@bp.post("/admin/catalog/draft/preview")
@admin_required
def preview_draft():
    """Show the public pages with the draft's prices, to this admin only, until stopped."""
    _draft_or_404()
    session[PREVIEW_KEY] = _name()
    return redirect(url_for("catalog.comparison"), 303)


@bp.post("/admin/catalog/draft/preview/stop")
@admin_required
def stop_preview():
    session.pop(PREVIEW_KEY, None)
    return redirect(url_for("admin.draft"), 303)


@bp.get("/admin/catalog/draft.toml")
@admin_required
def draft_toml():
    """The draft as TOML, in the bundled files' format: importing it gives the same draft."""
    draft = _draft_or_404()
    response = private(draft.source)
    response.headers["Content-Type"] = "application/toml; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{draft.name}-draft.toml"'
    return response


@bp.post("/admin/catalog/draft/import")
@admin_required
def import_draft():
    """A catalog file uploaded as the draft, in place of the draft there was."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a catalog file (.toml) to upload."), "error")
        return redirect(url_for("admin.catalog_versions"), 303)
    content = upload.stream.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        flash(_("A catalog file is at most 512 KB."), "error")
        return redirect(url_for("admin.catalog_versions"), 303)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        flash(_("A catalog file is text in UTF-8."), "error")
        return redirect(url_for("admin.catalog_versions"), 303)
    try:
        drafts.import_source(db.session, _name(), text.replace("\r\n", "\n"), _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _refused(error, "admin.catalog_versions")
    flash(_("The file is the draft now: look at its changes, then publish it."))
    return redirect(url_for("admin.draft_changes"), 303)


# --- working calendars ----------------------------------------------------------------------


@bp.post("/admin/catalog/draft/calendars/<code>")
@admin_required
def save_calendar(code: str):
    """A working calendar's days, hours, holidays' country and dated exceptions, each saved
    if it is still what the admin saw, checked as a catalog file's calendar is."""
    draft = _draft_or_404()
    data = editing.read(draft.source)
    if code not in data.get("calendars", {}):
        abort(404)
    form = request.form
    days = [day for day in editing.WEEKDAYS if day in form.getlist("day")]
    if not days:
        return _calendar_refused(draft, code, _("Choose the days the calendar works."))
    try:
        exceptions = editing.parse_exceptions(form.get("exceptions", ""))
    except editing.EditError as error:
        message = _(
            "Line %(line)s: write a day and its hours, such as 2026-12-31 closed or "
            "2026-12-24 10:00-14:00.",
            line=error.params["line"],
        )
        return _calendar_refused(draft, code, message)
    asked = {
        "days": days,
        "hours": form.get("hours", "").strip() or None,
        "holidays": form.get("holidays", "").strip().upper() or None,
        "exceptions": exceptions,
    }
    values = {}
    for key, new in asked.items():
        path = f"calendars.{code}.{key}"
        if editing.shown(new) != editing.shown(editing.value_at(data, path)):
            values[path] = (form.get(f"was_{key}", ""), new)
    if not values:
        flash(_("Nothing changed."))
        return redirect(url_for("admin.draft") + f"#calendar-{code}", 303)
    try:
        drafts.save_values(db.session, draft.name, values, _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        status = 409 if error.code == "stale" else 422
        return _calendar_refused(draft, code, _error_text(error), status)
    flash(_("The calendar is saved in the draft."))
    return redirect(url_for("admin.draft") + f"#calendar-{code}", 303)


def _calendar_refused(draft, code: str, message: str, status: int = 422):
    page = _draft_page(
        draft, errors={f"calendar.{code}": message}, typed={"calendar": request.form}
    )
    return private(render_template("admin/draft.html", **page), status)


def _weekday_names() -> dict[str, str]:
    names = get_day_names("abbreviated", locale=locale_code())
    return {day: names[index] for index, day in enumerate(editing.WEEKDAYS)}


# --- payment methods ------------------------------------------------------------------------

PAYMENT_CHOICES = {
    "card": _l("By card (Stripe Checkout)"),
    "bank-transfer": _l("By bank transfer, against an invoice"),
}


@bp.post("/admin/catalog/draft/payment-methods")
@admin_required
def save_payment_methods():
    """How clients pay: by card, by bank transfer, or both (one at least)."""
    draft = _draft_or_404()
    chosen = [code for code in PAYMENT_CHOICES if code in request.form.getlist("method")]
    if not chosen:
        flash(_("Choose at least one way to pay."), "error")
        return redirect(url_for("admin.draft") + "#payment", 303)
    was = request.form.get("was", "")
    try:
        drafts.save_values(
            db.session, draft.name, {"catalog.payment_methods": (was, chosen)}, _actor(), now()
        )
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _refused(error, "admin.draft", _anchor="payment")
    flash(_("The ways to pay are saved in the draft."))
    return redirect(url_for("admin.draft") + "#payment", 303)


# --- the provider's logo ----------------------------------------------------------------------

LOGO_UPLOAD_MAX = 256 * 1024


@bp.post("/admin/catalog/draft/logo")
@admin_required
def upload_logo():
    """An SVG or PNG uploaded as the provider's logo in the draft."""
    draft = _draft_or_404()
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        flash(_("Choose an SVG or PNG file for the logo."), "error")
        return redirect(url_for("admin.draft") + "#logo", 303)
    content = upload.stream.read(LOGO_UPLOAD_MAX + 1)
    if len(content) > LOGO_UPLOAD_MAX:
        flash(_("A logo is at most 256 KB."), "error")
        return redirect(url_for("admin.draft") + "#logo", 303)
    try:
        drafts.set_logo(db.session, draft.name, upload.filename, content, _actor(), now())
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        message = (
            _("A logo is an SVG or PNG file.") if error.code == "logo_type" else _error_text(error)
        )
        flash(message, "error")
        return redirect(url_for("admin.draft") + "#logo", 303)
    flash(_("The logo is in the draft: preview the public page to see it in place."))
    return redirect(url_for("admin.draft") + "#logo", 303)


@bp.get("/admin/catalog/draft/logo")
@admin_required
def draft_logo():
    """The draft's logo, as the public pages would serve it (an SVG runs no script)."""
    draft = _draft_or_404()
    catalog = drafts.draft_catalog(db.session, draft)
    logo = catalog.provider.logo if catalog.provider else None
    if logo is None:
        abort(404)
    return private(image_answer(logo))


# --- publishing -----------------------------------------------------------------------------


def _effective_at(typed: str, timezone: str) -> tuple[datetime | None, str | None]:
    """Midnight in the catalog's zone of the day typed, or why it cannot be."""
    text = gregorian_date_text(typed.strip()) if typed.strip() else None
    try:
        chosen = date.fromisoformat(text) if text else None
    except ValueError:
        chosen = None
    if chosen is None:
        return None, _("Type the day the prices change, such as 2027-01-01.")
    if chosen <= today_in(timezone):
        return None, _("Choose a day after today, or publish now.")
    return datetime.combine(chosen, time(0), ZoneInfo(timezone)), None


@bp.post("/admin/catalog/draft/publish")
@admin_required
def publish_draft():
    """Publish the draft as a new version: now, or from midnight of a chosen day in the
    catalog's zone (the comparison says so until then)."""
    draft = _draft_or_404()
    catalog = drafts.draft_catalog(db.session, draft)
    effective_at = None
    if request.form.get("when") == "day":
        typed_day = request.form.get("publish_day", "")
        effective_at, problem = _effective_at(typed_day, catalog.timezone)
        if problem:
            typed = {"day": typed_day}
            page = _draft_page(draft, errors={"day": problem}, typed=typed)
            return private(render_template("admin/draft.html", **page), 422)
    try:
        version = drafts.publish_draft(db.session, draft.name, _actor(), now(), effective_at)
    except drafts.DraftError as error:
        if error.code == "no_draft":
            return _draft_gone()
        return _refused(error)
    session.pop(PREVIEW_KEY, None)
    # Clients whose renewal price changes are told by the notices job, now rather than at
    # its next hourly run.
    jobs.enqueue("billing.price-notices")
    if effective_at is None:
        flash(
            _(
                "Version %(version)s is published and in effect.",
                version=number_plain(version.version),
            )
        )
    else:
        flash(
            _(
                "Version %(version)s is published; its prices take effect on %(day)s.",
                version=number_plain(version.version),
                day=day(effective_at.date(), locale_code()),
            )
        )
    return redirect(url_for("admin.catalog_versions"), 303)
