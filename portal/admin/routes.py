"""The audit log for admins: a page at a time, filtered by action and searched by who and
what, and the same rows as CSV. Admins only (others 404, anonymous to sign in)."""

from __future__ import annotations

import csv
import io
import json

from flask import make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.access import admin_required
from portal.admin import bp
from portal.audit import ACTIONS
from portal.extensions import db
from portal.listing import ListQuery, matching, page_of
from portal.models import AuditEntry

ALL = "all"
CSV_LIMIT = 100_000
ACTION_LABELS = {
    "invoice.paid": _l("Invoice marked paid"),
    "order.refunded": _l("Refund recorded"),
    "catalog.published": _l("Catalog published"),
    "user.created": _l("Account created"),
}


def _entries(asked: ListQuery):
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if asked.filters["action"] != ALL:
        query = query.where(AuditEntry.action == asked.filters["action"])
    found = matching(asked.search, AuditEntry.actor, AuditEntry.subject)
    return query.where(found) if found is not None else query


def _asked() -> ListQuery:
    return ListQuery.from_args(request.args, {"action": (ALL, *ACTIONS)})


def _changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) of every value the entry names, in order."""
    before, after = json.loads(entry.before or "{}"), json.loads(entry.after or "{}")
    return [
        (key, _shown(before.get(key)), _shown(after.get(key)))
        for key in sorted(set(before) | set(after))
    ]


def _shown(value) -> str:
    return "—" if value is None else str(value)


@bp.get("/admin/audit")
@admin_required
def audit():
    asked = _asked()
    page = page_of(db.session, _entries(asked), asked)
    response = make_response(
        render_template(
            "admin/audit.html",
            page=page,
            actions=[(ALL, _("All"), None)]
            + [(code, str(ACTION_LABELS[code]), None) for code in ACTIONS],
            labels=ACTION_LABELS,
            changes=_changes,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/admin/audit.csv")
@admin_required
def audit_csv():
    """The entries the page shows (its filter and search), newest first, every page."""
    asked = _asked()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "subject", "organization", "before", "after"])
    rows = db.session.scalars(_entries(asked).limit(CSV_LIMIT))
    for entry in rows:
        writer.writerow(
            [
                entry.at.isoformat(),
                entry.actor,
                entry.action,
                entry.subject,
                entry.organization_id or "",
                entry.before,
                entry.after,
            ]
        )
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
