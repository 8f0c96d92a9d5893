"""Error answers: JSON under /api, a notice for htmx requests, a page elsewhere.

A user's mistake answers a 4xx in the user's language; a fault of ours is logged.
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

import click
from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from portal.api.documents import error_document
from portal.catalog.wording import number
from portal.converters import local_path
from portal.plans import CatalogError, PlanError


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _answer(status: int, code: str, message: str, retry: bool = False):
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message, "field": None}}), status
    if request.headers.get("HX-Request"):
        # An htmx request: say it in the page's notice area, never swap a page into a fragment.
        body = render_template("_notice.html", message=message)
        return body, status, {"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"}
    page = render_template(
        "error.html", status=status, message=message, retry_url=_form_page() if retry else None
    )
    return page, status


def _form_page() -> str | None:
    """Where the refused form can be filled in again: the page it came from, if that is a
    page of this site (no link otherwise: the address it was posted to may take no GET)."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


# Werkzeug's descriptions are English; these say the same in the user's language.
HTTP_MESSAGES = {
    404: lazy_gettext("There is no such page."),
    405: lazy_gettext("This address does not take this kind of request."),
}


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = HTTP_MESSAGES.get(error.code, error.description)
        if error.code == 413:
            message = gettext(
                "The request is too large: at most %(size)s MB can be sent at once.",
                size=number(max(1, round(request.max_content_length / 2**20))),
            )
        code = error.name.lower().replace(" ", "_")
        # Too many tries, or too much at once: the form can be sent again, so lead back to it.
        return _answer(error.code, code, str(message), retry=error.code in (413, 429))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        # Flask-WTF's reason is English and technical; say what the person can do.
        message = gettext("This form has expired. Reload the page and send it again.")
        return _answer(400, "csrf_failed", message, retry=True)

    @app.errorhandler(PlanError)
    def plan_error(error: PlanError):
        document = error_document(error)
        if _wants_json():
            return jsonify(document), 400
        return _answer(400, error.code, document["error"]["message"])

    @app.errorhandler(CatalogError)
    def catalog_error(error: CatalogError):
        # The operator's catalog file is broken: say where, and that it is not the user's fault.
        app.logger.error("catalog error: %s", error)
        message = gettext("The price list cannot be read: %(reason)s", reason=str(error))
        return _answer(503, "catalog_unavailable", message)

    @app.errorhandler(DataError)
    def data_error(error):
        # A value the database cannot hold that no form caught: the request's fault.
        app.logger.warning("database refused a value: %s", error)
        return _answer(
            400, "bad_request", gettext("The request contains a value that cannot be stored.")
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(ProgrammingError)
    def database_error(error):
        app.logger.exception("database error")
        _without_the_database()
        text = str(error).lower()
        if "no such table" in text or "does not exist" in text:
            message = gettext(
                "The database is not ready. Run 'flask --app app db upgrade' and try again."
            )
        else:
            message = gettext("The database is not available right now. Try again in a minute.")
        return _answer(503, "database_unavailable", message)


def _without_the_database() -> None:
    """Let the error page render without a query: the session given up, the visitor shown
    as signed out (the page would otherwise load the signed-in user from the database that
    has just failed, and answer a bare 500 instead of this 503)."""
    from portal.extensions import db, login_manager

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing to roll back
        app_logger = logging.getLogger(__name__)
        app_logger.debug("rollback after a database error failed", exc_info=True)
    g._login_user = login_manager.anonymous_user()
    g.database_down = True  # the header and footer go without the catalog's provider


def explain_database_errors(command) -> None:
    """Make ``command`` (and the commands of a group) say a database fault in one line.

    A command run before ``flask db upgrade``, or with the database down, exits
    non-zero with the reason and what to do, instead of a traceback.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            explain_database_errors(sub)
        return
    if command.callback is None or getattr(command.callback, "_explains_database", False):
        return
    callback = command.callback

    @functools.wraps(callback)
    def explained(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
            raise click.ClickException(
                f"the database is not ready ({reason}): check DATABASE_URL and run "
                "'flask --app app db upgrade'"
            ) from None

    explained._explains_database = True
    command.callback = explained
