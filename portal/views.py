"""Template helpers: money, catalog texts and wording available in every template."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote, urlencode

import phonenumbers
from flask import Flask, g, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from portal import clock, formatting
from portal.billing.presentation import portal_link
from portal.catalog import rendering, wording
from portal.catalog.comparison import quote_params
from portal.catalog.current import current_catalog, previewing
from portal.extensions import db
from portal.i18n import LANGUAGE_NAMES, LOCALES, RIGHT_TO_LEFT, remember_language
from portal.jobs import late_jobs
from portal.plans import Catalog, CatalogError, LocalizedText
from portal.plans.subscriptions import is_orderable


def money(amount: Decimal | None, currency: str) -> str:
    """An amount formatted for the current locale, with the currency's own decimals."""
    if amount is None:
        return ""
    return formatting.money(amount, currency, wording.locale_code())


def catalog_part(template: str, **context) -> Markup:
    """Render ``template`` once per catalog version, language and plans compared, then reuse
    the HTML.

    For parts that depend on nothing else: feature rows, SLA rows, services. The plans
    compared are the offered ones, and an archived one its client is on.
    """
    comparison = context.get("comparison")
    catalog = context.get("catalog") or comparison.catalog
    version = rendering.version_key(catalog)
    columns = tuple(column.plan.code for column in comparison.columns) if comparison else ()
    key = (template, *version, wording.locale_code(), columns) if version else None
    return rendering.parts.get_or_render(key, lambda: render_template(template, **context))


def brand() -> str:
    """The name in the header: the provider's, on every page that knows its catalog."""
    catalog = g.get("catalog")
    if catalog is None:
        return gettext("Support portal")
    return wording.text(catalog.brand, catalog)


def site_catalog() -> Catalog | None:
    """The catalog whose provider the header and footer present: the request's, loaded if
    need be; None on a page answering that the database or the catalog failed."""
    catalog = g.get("catalog")
    if catalog is not None or g.get("database_down"):
        return catalog
    try:
        return current_catalog()
    except (SQLAlchemyError, CatalogError):
        g.database_down = True
        db.session.rollback()
        return None


def tel_link(phone: str, country: str | None) -> str:
    """A ``tel:`` address for a phone as the catalog writes it (``8 (800) 333-22-51``)."""
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def web_link(address: str) -> str:
    """An address as catalogs write it (``www.crystals.ru/support``) made a link."""
    return address if address.startswith(("http://", "https://")) else f"https://{address}"


def reader_timezone() -> str | None:
    """Where the reader's clock is: their organization's time zone, else the catalog's."""
    if current_user.is_authenticated and current_user.organization is not None:
        return current_user.organization.timezone
    catalog = g.get("catalog")
    return catalog.timezone if catalog else None


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["day"] = lambda value: formatting.day(value, wording.locale_code())
    app.jinja_env.filters["moment"] = lambda value, timezone=None: formatting.moment(
        value, wording.locale_code(), timezone or reader_timezone()
    )
    app.jinja_env.filters["weekday"] = lambda value: formatting.weekday(
        value, wording.locale_code()
    )
    app.jinja_env.filters["clock"] = lambda value, timezone=None: formatting.clock(
        value, wording.locale_code(), timezone or reader_timezone()
    )
    app.jinja_env.filters["plain"] = wording.number_plain
    # A name or an address of another script inside a sentence (an e-mail on a Persian
    # page) keeps its own direction: first-strong isolates around it.
    app.jinja_env.filters["isolated"] = lambda text: f"\u2068{text}\u2069"
    app.jinja_env.filters["typed_date"] = lambda value: formatting.typed_date(
        value, wording.locale_code()
    )
    app.jinja_env.filters["currency_symbol"] = lambda code: formatting.currency_symbol(
        code, wording.locale_code()
    )
    app.jinja_env.filters["zone"] = lambda timezone: formatting.zone_label(
        timezone, wording.locale_code(), clock.now()
    )
    app.after_request(remember_language)

    @app.template_filter("t")
    def localized(value: LocalizedText | None) -> str:
        catalog = g.get("catalog")
        if value is None:
            return ""
        return value.get_for(wording.locale_code(), catalog.locale if catalog else None)

    def callback_url(plan: str, kind: str, choice) -> str:
        """The call-back form for ``plan``, carrying the comparison the client was looking at."""
        return url_for("callbacks.form", plan=plan, kind=kind, options=urlencode(choice.query()))

    def order_url(plan, choice) -> str:
        """The order summary of ``plan`` with the term and options of ``choice``.

        A period the portal knows the order finds itself; the end of one the client
        declared goes along (``declared_end``), for the summary to say what it changes.
        """
        params = quote_params(plan, choice)
        if choice.renews:
            # Said on the summary: renewal prices hold for a period the portal knows.
            params["declared_end"] = choice.previous_end.isoformat()
        return url_for("billing.new_order", **params)

    def language_url(code: str, query: dict[str, str] | None = None) -> str:
        """This page in another language: the same query (or ``query``), ``lang`` replaced."""
        args = dict(request.args.to_dict() if query is None else query)
        args["lang"] = code
        # Quoted: a path like /\\host must not become a link to another site.
        return f"{quote(request.path)}?{urlencode(args)}"

    @app.context_processor
    def globals_():
        locale = wording.locale_code()
        return {
            "wording": wording,
            "locales": LOCALES,
            "language_names": LANGUAGE_NAMES,
            "callback_url": callback_url,
            "order_url": order_url,
            "orderable": is_orderable,
            "catalog_part": catalog_part,
            "brand": brand,
            "site_catalog": site_catalog,
            "previewing": previewing,
            "tel_link": tel_link,
            "date_hint": lambda: formatting.date_hint(locale),
            "web_link": web_link,
            "absolute_url": portal_link,
            "language_url": language_url,
            "late_jobs": late_jobs,
            "current_locale": locale,
            "text_direction": "rtl" if locale in RIGHT_TO_LEFT else "ltr",
        }
