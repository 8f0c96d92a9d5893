"""Who may see a page: the session's user, and the guards of staff and client pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, make_response
from flask_login import current_user

from portal.accounts import services
from portal.extensions import db, htmx, login_manager


@login_manager.user_loader
def load_user(user_id: str):
    return services.active_user(db.session, user_id)


def staff_required(view: Callable) -> Callable:
    """Staff and admins only: anyone signed out is sent to sign in, anyone else gets a 404.

    A 404 rather than a 403, so that a client cannot even learn the page exists.
    An htmx request from a signed-out browser is sent to sign in with
    ``HX-Redirect`` (a plain redirect would swap the login page into a fragment).
    """

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return sign_in_first()
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return guarded


def admin_required(view: Callable) -> Callable:
    """Admins only: anyone signed out is sent to sign in, anyone else (staff, clients) gets
    a 404, as for staff pages."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return sign_in_first()
        if current_user.role != "admin" or not current_user.is_active:
            abort(404)
        return view(*args, **kwargs)

    return guarded


def client_required(view: Callable) -> Callable:
    """Users of a client organization only: signed out, sign in; anyone else (staff too), 404.

    The pages behind it show the signed-in user's own organization, never one
    named in the address, so another organization's data cannot be asked for.
    """

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return sign_in_first()
        if current_user.organization_id is None:
            abort(404)
        return view(*args, **kwargs)

    return guarded


def sign_in_first():
    """To the sign-in page and back; for htmx, with ``HX-Redirect`` (a plain redirect would
    swap the sign-in page into a fragment)."""
    response = login_manager.unauthorized()
    if htmx:
        location = response.location
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
    return response
