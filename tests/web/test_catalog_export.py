"""Admins download a published catalog version as TOML in the bundled files' format; parsing
the file gives the same catalog, and publishing it again publishes nothing new."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.catalog import services
from portal.catalog.current import current_catalog
from portal.clock import now
from portal.extensions import db
from portal.models import CatalogVersion
from portal.plans.loading import parse_catalog
from tests.web.conftest import visible_text

BUNDLED = ["kbs", "iiko", "iotex", "crystals", "kvartplata"]


@pytest.fixture
def admin_of(make_user, form_client):
    def signed_in(app):
        account = make_user("root@example.com", role="admin", name="Root")
        forms = form_client(app.test_client())
        forms.client.set_cookie("lang", "en")
        assert forms.sign_in(account.email).status_code == 303
        return forms

    return signed_in


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_catalog_round_trips_through_its_export(make_app, admin_of, name):
    app = make_app(PORTAL_CATALOG=name)
    admin = admin_of(app)
    listing = visible_text(admin.client.get("/admin/catalog").get_data(as_text=True))
    assert "Download TOML" in listing and "in effect" in listing
    exported = admin.client.get("/admin/catalog/1.toml")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == f'attachment; filename="{name}-v1.toml"'
    text = exported.get_data(as_text=True)
    with app.app_context():
        published = current_catalog()
        again = parse_catalog(
            text,
            files={published.provider.logo.name: published.provider.logo.content}
            if published.provider and published.provider.logo
            else None,
        )
        assert again.with_version(published.version, published.checksum) == published
        services.publish(db.session, text, f"{name}-v1.toml", now())
        assert db.session.scalar(sa.select(sa.func.count(CatalogVersion.id))) == 1


def test_an_unknown_version_is_not_found_and_only_admins_download(app, admin_of, desk):
    admin = admin_of(app)
    assert admin.client.get("/admin/catalog/99.toml").status_code == 404
    assert desk.client.get("/admin/catalog/1.toml").status_code == 404
    assert desk.client.get("/admin/catalog").status_code == 404
    assert app.test_client().get("/admin/catalog").status_code in (302, 303)
