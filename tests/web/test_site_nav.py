"""The header's links: sign in and register for visitors, the account and sign out for users."""

from __future__ import annotations

import pytest


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme", "owner@acme.example", members=["member@acme.example"])


def site_nav(page, html: str) -> str:
    return page(html).text("site-nav")


def test_the_header_offers_sign_in_and_registration_to_visitors(client, page):
    html = client.get("/plans?lang=en").get_data(as_text=True)
    assert site_nav(page, html) == "Sign in Register"
    assert 'href="/register"' in html


def test_the_header_offers_the_account_and_sign_out_to_clients(forms, acme, page):
    forms.sign_in(acme.members[0].email)
    html = forms.client.get("/plans?lang=en").get_data(as_text=True)
    assert site_nav(page, html) == "Tickets Account Sign out"
    assert 'href="/account"' in html


def test_the_header_offers_staff_their_pages_and_sign_out(forms, staff, page):
    html = forms.client.get("/staff/invoices?lang=en").get_data(as_text=True)
    assert site_nav(page, html) == (
        "Tickets Call-back requests Client organizations Invoices Outbox API tokens Sign out"
    )
    assert '<a href="/staff/invoices" aria-current="page">' in html


def test_signing_out_from_the_header_ends_the_session(forms, acme):
    forms.sign_in(acme.owner.email)
    assert forms.submit("/plans", "/logout").status_code == 303
    assert forms.client.get("/account").status_code == 302


def test_reloading_the_address_a_refused_account_form_went_to_shows_the_account(forms, acme):
    forms.sign_in(acme.owner.email)
    for path in ("/account/organization", "/account/invitations"):
        again = forms.client.get(path)
        assert (again.status_code, again.location) == (303, "/account")


def test_staff_choosing_a_plan_are_told_orders_are_the_clients(forms, staff):
    refused = forms.client.get("/orders/new?plan=optima&term=7m&lang=en")
    assert refused.status_code == 403
    assert "Orders are placed by a client's users" in refused.get_data(as_text=True).replace(
        "&#39;", "'"
    )


def test_the_portal_has_an_icon(client):
    html = client.get("/plans").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert client.get("/favicon.ico").location == "/static/favicon.svg"
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_choosing_signed_out_shows_one_notice_on_the_sign_in_page(client):
    login = client.get("/orders/new?plan=optima&term=7m", follow_redirects=True)
    html = login.get_data(as_text=True)
    assert html.count('class="flash"') == 1
