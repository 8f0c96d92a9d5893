"""The admins' pages: the audit log (a page at a time, filtered by action and searched by who
and what, and the same rows as CSV) and the provider's staff accounts (roles, deactivation).
Admins only (others 404, anonymous to sign in). Thin views over :mod:`portal.audit` and
:mod:`portal.admin.staff`."""

from __future__ import annotations

import csv
import io
import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer

from portal.accounts.access import admin_required
from portal.accounts.routes import mail_url
from portal.accounts.services import invitation_mail
from portal.admin import bp
from portal.admin import staff as staff_accounts
from portal.admin.forms import STAFF_ROLE_LABELS, StaffInvitationForm
from portal.audit import ACTIONS, Actor
from portal.catalog import drafts
from portal.catalog.current import published_catalog
from portal.catalog.wording import text
from portal.clock import now
from portal.extensions import db
from portal.headers import private
from portal.listing import ListQuery, matching, page_of
from portal.models import AuditEntry, CatalogVersion

ALL = "all"
CSV_LIMIT = 100_000
ACTION_LABELS = {
    "invoice.paid": _l("Invoice marked paid"),
    "order.refunded": _l("Refund recorded"),
    "catalog.published": _l("Catalog published"),
    "catalog.draft_started": _l("Catalog draft started"),
    "catalog.draft_edited": _l("Catalog draft edited"),
    "catalog.draft_imported": _l("Catalog file imported as the draft"),
    "catalog.draft_discarded": _l("Catalog draft discarded"),
    "user.created": _l("Account created"),
    "user.role_changed": _l("Role changed"),
    "user.deactivated": _l("Account deactivated"),
    "user.reactivated": _l("Account reactivated"),
    "staff.invited": _l("Staff member invited"),
    "staff.invitation_revoked": _l("Staff invitation withdrawn"),
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
    return private(
        render_template(
            "admin/audit.html",
            page=page,
            actions=[(ALL, _("All"), None)]
            + [(code, str(ACTION_LABELS[code]), None) for code in ACTIONS],
            labels=ACTION_LABELS,
            changes=_changes,
        )
    )


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
    response = private(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


# --- the provider's people ---------------------------------------------------------------------

STAFF_ERRORS = {
    "no_such_account": _l("There is no such staff account."),
    "bad_email": _l("This is not an e-mail address. Type it like name@example.com."),
    "has_account": _l("This address already has an account; a role is changed on its row below."),
    "busy": _l("This address is being invited by another admin just now: try again."),
    "no_such_invitation": _l("This invitation was accepted, withdrawn or has expired."),
    "unknown_role": _l("Choose staff or admin."),
    "not_yourself": _l("You cannot change your own account: ask another admin."),
    "last_admin": _l("This is the last active admin: make someone else an admin first."),
}
ROLE_LABELS = STAFF_ROLE_LABELS


@bp.get("/admin/staff")
@admin_required
def staff():
    return _staff_page()


def _staff_page(form: StaffInvitationForm | None = None, status: int = 200):
    asked = ListQuery.from_args(request.args)
    return private(
        render_template(
            "admin/staff.html",
            page=page_of(db.session, staff_accounts.staff_list(asked.search), asked),
            roles=ROLE_LABELS,
            form=form or StaffInvitationForm(formdata=None),
            invitations=staff_accounts.pending_staff_invitations(db.session, now()),
            zone=published_catalog().timezone,
        ),
        status,
    )


@bp.post("/admin/staff/invitations")
@admin_required
def invite_staff():
    """Mail a link to a new staff or admin account; the invitation is in the audit log."""
    form = StaffInvitationForm()
    if not form.validate():
        return _staff_page(form, 422)
    catalog = published_catalog()
    max_age = current_app.config["TOKEN_MAX_AGE_SECONDS"]["invitation"]

    def mail(invitation, token: str):
        return invitation_mail(
            invitation,
            link=mail_url("accounts.invitation", token=token),
            max_age=max_age,
            provider=text(catalog.brand, catalog),
            locale=current_user.locale or catalog.locale,
        )

    try:
        invitation = staff_accounts.invite_staff(
            db.session,
            form.email.data,
            form.role.data,
            actor=Actor(current_user.id, current_user.email),
            now=now(),
            max_age=max_age,
            mail=mail,
            outbox=current_app.extensions["outbox"],
        )
    except staff_accounts.StaffError as error:
        form.email.errors = [str(STAFF_ERRORS[error.code])]
        return _staff_page(form, 409 if error.code in ("has_account", "busy") else 422)
    flash(_("The invitation to %(email)s is on its way.", email=invitation.email))
    return redirect(url_for("admin.staff"), 303)


@bp.post("/admin/staff/invitations/<id:invitation_id>/revoke")
@admin_required
def revoke_staff_invitation(invitation_id: int):
    """Withdraw a staff invitation: its link stops working at once."""
    try:
        invitation = staff_accounts.revoke_invitation(
            db.session, invitation_id, actor=Actor(current_user.id, current_user.email), now=now()
        )
    except staff_accounts.StaffError as error:
        flash(str(STAFF_ERRORS[error.code]), "error")
        return redirect(url_for("admin.staff"), 303)
    flash(
        _(
            "The invitation to %(email)s is withdrawn; its link no longer works.",
            email=invitation.email,
        )
    )
    return redirect(url_for("admin.staff"), 303)


def _staff_change(change, user_id: int, done):
    """Run ``change`` on the account as the signed-in admin; flash ``done(user)`` or why not."""
    try:
        user = change(db.session, user_id, actor=Actor(current_user.id, current_user.email))
    except staff_accounts.StaffError as error:
        if error.code == "no_such_account":
            abort(404)
        flash(str(STAFF_ERRORS[error.code]))
        return redirect(url_for("admin.staff"), 303)
    flash(done(user))
    return redirect(url_for("admin.staff"), 303)


@bp.post("/admin/staff/<id:user_id>/role")
@admin_required
def staff_role(user_id: int):
    role = request.form.get("role", "")
    if role not in ROLE_LABELS:
        abort(400, str(STAFF_ERRORS["unknown_role"]))
    return _staff_change(
        lambda session, uid, actor: staff_accounts.set_role(
            session, uid, role, actor=actor, now=now()
        ),
        user_id,
        lambda user: _(
            "%(name)s is now %(role)s; their open sessions sign in again.",
            name=user.name,
            role=ROLE_LABELS[role],
        ),
    )


@bp.post("/admin/staff/<id:user_id>/active")
@admin_required
def staff_active(user_id: int):
    active = request.form.get("active") == "1"
    return _staff_change(
        lambda session, uid, actor: staff_accounts.set_active(
            session, uid, active, actor=actor, now=now()
        ),
        user_id,
        lambda user: (
            _("%(name)s can sign in again.", name=user.name)
            if active
            else _("%(name)s is deactivated: every session of theirs has ended.", name=user.name)
        ),
    )


# --- catalog versions, exported ------------------------------------------------------------------


def _versions_query(name: str):
    return (
        select(CatalogVersion)
        .where(CatalogVersion.name == name)
        .order_by(CatalogVersion.version.desc())
        .options(defer(CatalogVersion.source), defer(CatalogVersion.logo))
    )


@bp.get("/admin/catalog")
@admin_required
def catalog_versions():
    """The active catalog's published versions, newest first, each to download as TOML; its
    draft, or a button to start one, and a catalog file to upload as the draft."""
    catalog = published_catalog()
    asked = ListQuery.from_args(request.args)
    return private(
        render_template(
            "admin/catalog_versions.html",
            catalog=catalog,
            page=page_of(db.session, _versions_query(catalog.code), asked),
            draft=drafts.draft_of(db.session, catalog.code),
            now=now(),
        )
    )


@bp.get("/admin/catalog/<int:version>.toml")
@admin_required
def catalog_toml(version: int):
    """A published version of the active catalog as the TOML it was published from, in the
    bundled files' format: publishing it again changes nothing (the same checksum)."""
    catalog = published_catalog()
    row = db.session.scalar(
        select(CatalogVersion).where(
            CatalogVersion.name == catalog.code, CatalogVersion.version == version
        )
    )
    if row is None:
        abort(404)
    response = private(row.source)
    response.headers["Content-Type"] = "application/toml; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{row.name}-v{row.version}.toml"'
    )
    return response
