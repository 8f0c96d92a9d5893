"""The first public page: the active catalog's plans side by side, priced by the engine."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest

from portal.plans import load_catalog, parse_quote_request, quote
from portal.plans.loading import bundled_catalog_names

STATIC = Path(__file__).resolve().parents[2] / "portal" / "static"


def engine_total(catalog_name: str, plan: str, term: str) -> str:
    catalog = load_catalog(catalog_name)
    today = date(2026, 11, 22)
    return str(
        quote(catalog, parse_quote_request(catalog, {"plan": plan, "term": term}, today)).total
    )


def test_the_home_page_shows_the_kbs_plans_side_by_side_with_engine_prices(client):
    page = client.get("/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for plan in ("prof", "optima", "premium"):
        assert f'data-plan="{plan}"' in html
    totals = re.findall(r'data-total="([0-9.]+)"', html)
    assert totals == [engine_total("kbs", p, "1m") for p in ("prof", "optima", "premium")]
    assert totals == ["2460.00", "6420.00", "10620.00"]
    assert "4 working hours" in html
    assert "Extra specialist time" in html


@pytest.mark.parametrize("name", bundled_catalog_names())
def test_every_bundled_catalog_renders_in_its_own_language(make_app, name):
    client = make_app(PORTAL_CATALOG=name).test_client()
    page = client.get("/")
    assert page.status_code == 200
    catalog = load_catalog(name)
    html = page.get_data(as_text=True)
    assert f'<html lang="{catalog.locale}"' in html
    for plan in catalog.plans.values():
        assert plan.name[catalog.locale] in html


def test_portal_catalog_iotex_shows_the_plans_in_rials_right_to_left(make_app):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "ریال" in html
    assert "پایه" in html and "استاندارد" in html and "برتر" in html


def test_the_language_switcher_remembers_the_choice_in_a_cookie(client):
    first = client.get("/?lang=ru")
    assert 'lang="ru"' in first.get_data(as_text=True)
    assert "lang=ru" in first.headers["Set-Cookie"]
    assert 'lang="ru"' in client.get("/").get_data(as_text=True)


def test_the_language_cookie_travels_over_https_only_where_the_session_does(make_app):
    secure = make_app(SESSION_COOKIE_SECURE=True).test_client().get("/?lang=ru")
    assert "Secure" in secure.headers["Set-Cookie"]
    plain = make_app().test_client().get("/?lang=ru")  # tests, like development, use http
    assert "Secure" not in plain.headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/plans", "/login", "/nowhere"])
def test_no_page_shows_inside_another_sites_frame(client, path):
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_accept_language_chooses_the_page_language(client):
    html = client.get("/", headers={"Accept-Language": "fa-IR,fa;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl"' in html


def test_an_unknown_page_is_a_404_page_not_json(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_the_vendored_htmx_matches_its_recorded_checksum(client):
    recorded = (STATIC / "vendor" / "SHA256SUMS").read_text().split()
    digest, name = recorded[0], recorded[1]
    with client.get(f"/static/vendor/{name}") as served:
        assert served.status_code == 200
        assert hashlib.sha256(served.data).hexdigest() == digest
    assert f"/static/vendor/{name}" in client.get("/").get_data(as_text=True)


def test_a_form_sent_without_its_token_is_refused_in_the_users_language(client):
    response = client.post("/callback?lang=uk", data={"name": "Олена"})
    assert response.status_code == 400
    assert "Термін дії форми минув" in response.get_data(as_text=True)


def test_the_footer_offers_staff_sign_in_to_visitors(client):
    html = client.get("/plans?lang=en").get_data(as_text=True)
    assert 'href="/login"' in html and "Staff sign-in" in html
