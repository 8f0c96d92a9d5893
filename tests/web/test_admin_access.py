"""Every page and action of the admin area, found in the application's own routes, refuses
staff and clients (404, as if there were none) and sends a signed-out browser to sign in."""

from __future__ import annotations

import pytest

from portal import create_app
from tests.conftest import _test_config


def admin_routes() -> list[tuple[str, str]]:
    """(method, path) of every admin route, each argument given as 1 (the guard answers
    before any look-up: a stranger is sent to sign in even for a row that is not there)."""
    app = create_app(_test_config({"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    urls = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = urls.build(rule.endpoint, {name: 1 for name in rule.arguments})
        found.extend((method, path) for method in sorted(rule.methods & {"GET", "POST"}))
    return found


ROUTES = admin_routes()


def test_the_admin_area_has_the_pages_this_file_guards():
    assert len(ROUTES) >= 20
    assert ("POST", "/admin/catalog/draft/publish") in ROUTES


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_admin_page_or_action_is_no_page_for_staff_or_clients(
    app, desk, make_organization, form_client, method, path
):
    acme = make_organization("Acme", "owner@acme.example")
    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    for browser, page in ((desk, "/staff/tickets"), (client, "/account")):
        data = {"csrf_token": browser.token(page)} if method == "POST" else None
        answer = browser.client.open(path, method=method, data=data)
        assert answer.status_code == 404, (path, answer.status_code)
    stranger = app.test_client().open(path, method=method)
    assert stranger.status_code in ((302, 303) if method == "GET" else (302, 303, 400))
