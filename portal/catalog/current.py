"""The catalog of the current request or command: the version in effect, or, for an admin
previewing the draft, the draft on the public catalog pages."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

from portal.catalog import services
from portal.clock import now
from portal.extensions import db
from portal.plans import Catalog, CatalogError

# The session key of an admin's preview: the catalog name whose draft the public pages show.
PREVIEW_KEY = "preview_draft"
# The pages a preview shows with the draft's prices: the comparison, plans, terms, logo.
PREVIEW_BLUEPRINTS = frozenset({"catalog"})


def published_catalog() -> Catalog:
    """The version of ``PORTAL_CATALOG`` in effect now, read once per request."""
    if "published_catalog" not in g:
        config = current_app.config
        g.published_catalog = services.active_catalog(
            db.session, config["PORTAL_CATALOG"], now(), config["CATALOG_REFRESH_SECONDS"]
        )
    return g.published_catalog


def current_catalog() -> Catalog:
    """The catalog this request prices from: the version in effect, or on the public
    catalog pages of an admin previewing it, the draft (never anyone else's pages, and
    never an order: orders are placed elsewhere, from the version in effect)."""
    if "catalog" not in g:
        g.catalog = previewed_draft() or published_catalog()
        g.catalog_locale = g.catalog.locale
    return g.catalog


def previewed_draft() -> Catalog | None:
    """The draft this admin previews on this page, if any."""
    if (
        not has_request_context()
        or PREVIEW_KEY not in session
        or request.blueprint not in PREVIEW_BLUEPRINTS
        or not current_user.is_authenticated
        or current_user.role != "admin"
    ):
        return None
    from portal.catalog import drafts  # the drafts use the published versions: no cycle

    draft = drafts.draft_of(db.session, session[PREVIEW_KEY])
    if draft is None:
        return None
    try:
        return drafts.draft_catalog(db.session, draft)
    except CatalogError:
        return None


def previewing() -> bool:
    """Whether the page shows the draft's prices (the banner says so)."""
    return g.get("catalog") is not None and g.get("catalog") is not g.get("published_catalog")


def next_change() -> datetime | None:
    """When a scheduled version of ``PORTAL_CATALOG`` takes effect, if one is."""
    config = current_app.config
    return services.next_change(
        db.session, config["PORTAL_CATALOG"], now(), config["CATALOG_REFRESH_SECONDS"]
    )
