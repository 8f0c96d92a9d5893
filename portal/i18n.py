"""Languages of the portal: which one a request gets, and compiled message catalogs."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, has_request_context, request
from flask_login import current_user

LOCALES = ("en", "ru", "uk", "fa", "kk")
RIGHT_TO_LEFT = frozenset({"fa"})
LANGUAGE_COOKIE = "lang"
# Each language named in itself, for the language switcher.
LANGUAGE_NAMES = (
    ("en", "English"),
    ("ru", "Русский"),
    ("uk", "Українська"),
    ("fa", "فارسی"),
    ("kk", "Қазақша"),
)


def chosen_locale() -> str | None:
    """The language the visitor chose: ``?lang=``, else the cookie that choice left."""
    for choice in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if choice in LOCALES:
            return choice
    return None


def select_locale() -> str:
    """``?lang=``, the language cookie, the signed-in user's language, ``Accept-Language``,
    then the catalog's own."""
    if has_request_context():
        choice = chosen_locale()
        if choice:
            return choice
        if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
            return current_user.locale
        if request.accept_languages:
            best = request.accept_languages.best_match(LOCALES)
            if best:
                return best
    return g.get("catalog_locale", "en")


def remember_language(response):
    """Keep a language chosen with ``?lang=`` in a cookie for the next pages (a year)."""
    if has_request_context():
        choice = request.args.get("lang")
        if choice in LOCALES and request.cookies.get(LANGUAGE_COOKIE) != choice:
            response.set_cookie(
                LANGUAGE_COOKIE,
                choice,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
            )
    return response


def compile_translations(source: Path, target: Path) -> None:
    """Compile each ``source/<lang>/LC_MESSAGES/messages.po`` into ``target`` when it changed.

    Compiled catalogs are build output: they live under ``instance/``, never in git.
    """
    for po_path in source.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        partial = mo_path.with_suffix(".mo.tmp")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo_path)
