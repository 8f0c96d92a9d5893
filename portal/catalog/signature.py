"""The provider's signature under every mail: name, phone, e-mail, hours and web site."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from portal.catalog.current import current_catalog
from portal.extensions import db
from portal.plans import CatalogError


def provider_signature(locale: str) -> str | None:
    """The signature in ``locale``, from the catalog in effect; None when the catalog has
    no provider profile or cannot be read (the mail goes unsigned, not lost)."""
    try:
        catalog = current_catalog()
    except (SQLAlchemyError, CatalogError):
        db.session.rollback()
        return None
    provider = catalog.provider
    if provider is None or provider.country is None:
        return None

    def text(value) -> str:
        return value.get_for(locale, catalog.locale)

    brand, legal = text(provider.brand), text(provider.legal_name)
    # "ТОВ «СОФТКОМ»" says the brand already; "Iotex (Iotex Software Group Co.)" needs both.
    lines = [legal if brand in legal else f"{brand} ({legal})"]
    contacts = [*provider.phones[:1], *([provider.email] if provider.email else [])]
    if contacts:
        lines.append(" · ".join(contacts))
    if provider.support_hours:
        lines.append(text(provider.support_hours))
    if provider.website:
        lines.append(provider.website)
    return "\n".join(lines)
