"""The catalog draft as a file: exported and imported again unchanged for every bundled
catalog, an edited file uploaded as the draft, a bad one refused with where and why; and the
provider's logo uploaded into the draft and published with it."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import CatalogDraft, CatalogVersion
from portal.plans.loading import CATALOG_DIR
from tests.web.drafting import (
    CELL,
    TOKEN_PAGE,
    actions,
    draft_value,
    publish,
    save_cell,
    started,
    visible_text,
)

# --- import and export -----------------------------------------------------------------------

BUNDLED = ["kbs", "iiko", "iotex", "crystals", "kvartplata"]


def upload(admin, text: str, name: str = "catalog.toml"):
    return admin.submit(
        "/admin/catalog",
        "/admin/catalog/draft/import",
        {"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("name", BUNDLED)
def test_a_draft_exported_and_imported_again_is_the_same_catalog(
    make_app, make_user, form_client, name
):
    app = make_app(PORTAL_CATALOG=name)
    account = make_user("root@example.com", role="admin", name="Root")
    admin = form_client(app.test_client())
    admin.client.set_cookie("lang", "en")
    admin.sign_in(account.email)
    started(admin)
    exported = admin.client.get("/admin/catalog/draft.toml")
    assert exported.headers["Content-Disposition"] == f'attachment; filename="{name}-draft.toml"'
    text = exported.get_data(as_text=True)
    assert text == (CATALOG_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert upload(admin, text).status_code == 303
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "The draft is the same as the published version." in changes
    assert admin.client.get("/admin/catalog/draft.toml").get_data(as_text=True) == text


def test_an_edited_file_uploaded_becomes_the_draft_and_its_change_is_listed(app, admin):
    text = (CATALOG_DIR / "kbs.toml").read_text().replace("7m = 65940", "7m = 69000")
    assert upload(admin, text).location.endswith("/admin/catalog/draft/changes")
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "plans.premium.terms.7m 65,940 69,000" in changes
    assert actions(app)[-1] == "catalog.draft_imported"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[catalog\ncode = 1", "not valid TOML", id="not TOML"),
        pytest.param(
            (CATALOG_DIR / "kbs.toml").read_text().replace("7m = 40740", "13m = 40740"),
            "plans.optima.terms.13m months must be 1..12",
            id="a term the catalog files refuse, located",
        ),
        pytest.param(
            (CATALOG_DIR / "iiko.toml").read_text(),
            "This file is catalog “iiko”",
            id="another catalog",
        ),
    ],
)
def test_a_file_that_is_not_this_catalog_is_refused_with_where_and_why(app, admin, text, message):
    started(admin)
    save_cell(admin, CELL, "44000", "40740")
    refused = upload(admin, text)
    assert refused.status_code == 303
    page = visible_text(admin.client.get("/admin/catalog").get_data(as_text=True))
    assert message in page
    assert draft_value(app, CELL) == "44000", "the draft there was is kept"


# --- the provider's logo --------------------------------------------------------------------

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10"/></svg>'
)


def upload_logo(admin, content: bytes, name: str):
    return admin.submit(
        TOKEN_PAGE,
        "/admin/catalog/draft/logo",
        {"logo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_logo_uploaded_into_the_draft_is_published_with_it(app, admin):
    started(admin)
    assert upload_logo(admin, SVG, "Brand Mark.SVG").status_code == 303
    assert draft_value(app, "provider.logo") == "logo.svg"
    shown = admin.client.get("/admin/catalog/draft/logo")
    assert (shown.status_code, shown.data, shown.mimetype) == (200, SVG, "image/svg+xml")
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    assert publish(admin).status_code == 303
    public = app.test_client().get("/provider/logo?v=2")
    assert public.data == SVG
    with app.app_context():
        version = db.session.scalar(sa.select(CatalogVersion).where(CatalogVersion.version == 2))
        assert (version.logo_name, version.logo) == ("logo.svg", SVG)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        pytest.param(b"GIF89a", "logo.gif", "A logo is an SVG or PNG file.", id="a GIF"),
        pytest.param(b"not a picture", "logo.png", "is not a PNG image", id="a text called .png"),
        pytest.param(SVG, "logo.png", "is not a PNG image", id="an SVG called .png"),
    ],
)
def test_a_logo_that_is_not_an_svg_or_png_is_refused_and_the_old_one_kept(
    app, admin, content, name, message
):
    started(admin)
    upload_logo(admin, content, name)
    page = visible_text(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert message in page
    assert draft_value(app, "provider.logo") == "kbs.svg"


def test_a_previewed_logo_is_the_drafts_and_is_never_kept_by_a_cache(app, admin):
    started(admin)
    upload_logo(admin, SVG, "mark.svg")
    admin.submit(TOKEN_PAGE, "/admin/catalog/draft/preview")
    previewed = admin.client.get("/provider/logo")
    assert previewed.data == SVG
    assert previewed.headers["Cache-Control"] == "private, no-store"
    public = app.test_client().get("/provider/logo?v=1")
    assert public.data != SVG and "immutable" in public.headers["Cache-Control"]


def test_a_file_refused_leaves_no_draft_behind(app, admin):
    refused = upload(admin, "[catalog\ncode = 1")
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CatalogDraft.id))) == 0
    assert "catalog.draft_started" not in actions(app)


def test_a_new_logo_alone_is_a_change_to_publish(app, admin):
    started(admin)
    upload_logo(admin, SVG, "mark.svg")
    assert publish(admin).status_code == 303
    started(admin)
    other = SVG.replace(b'width="10" height="10"/>', b'width="5" height="5"/>')
    upload_logo(admin, other, "mark.svg")
    changes = visible_text(admin.client.get("/admin/catalog/draft/changes").get_data(as_text=True))
    assert "provider.logo (image)" in changes
    assert publish(admin).status_code == 303
    assert app.test_client().get("/provider/logo?v=3").data == other


# --- ways to pay ------------------------------------------------------------------------------


def pay_by(admin, *methods, was='["card", "bank-transfer"]'):
    return admin.submit(
        TOKEN_PAGE,
        "/admin/catalog/draft/payment-methods",
        {"method": list(methods), "was": was},
    )


def test_the_ways_to_pay_are_chosen_in_the_draft(app, admin):
    started(admin)
    assert pay_by(admin, "bank-transfer").status_code == 303
    assert draft_value(app, "catalog.payment_methods") == '["bank-transfer"]'


def test_paying_no_way_at_all_is_refused(app, admin):
    started(admin)
    pay_by(admin)
    page = visible_text(admin.client.get("/admin/catalog/draft").get_data(as_text=True))
    assert "Choose at least one way to pay." in page
    assert draft_value(app, "catalog.payment_methods") == '["card", "bank-transfer"]'
