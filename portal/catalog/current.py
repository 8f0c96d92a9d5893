"""The active catalog of the current request or command."""

from __future__ import annotations

from flask import current_app, g

from portal.catalog import services
from portal.clock import now
from portal.extensions import db
from portal.plans import Catalog


def current_catalog() -> Catalog:
    """The newest version of ``PORTAL_CATALOG``, read once per request."""
    if "catalog" not in g:
        config = current_app.config
        g.catalog = services.active_catalog(
            db.session, config["PORTAL_CATALOG"], now(), config["CATALOG_REFRESH_SECONDS"]
        )
        g.catalog_locale = g.catalog.locale
    return g.catalog
