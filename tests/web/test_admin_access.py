"""Every page and action of the admin area, found in the application's own routes, refuses
staff and clients (404, as if there were none) and sends a signed-out browser to sign in."""

from __future__ import annotations

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


def test_every_admin_page_and_action_is_no_page_for_staff_or_clients(
    app, desk, make_organization, form_client
):
    acme = make_organization("Acme", "owner@acme.example")
    client = form_client(app.test_client())
    client.sign_in(acme.owner.email)
    stranger = app.test_client()
    tokens = {desk: desk.token("/staff/tickets"), client: client.token("/account")}
    wrong = []
    for method, path in ROUTES:
        for browser, token in tokens.items():
            data = {"csrf_token": token} if method == "POST" else None
            answer = browser.client.open(path, method=method, data=data)
            if answer.status_code != 404:
                wrong.append(
                    (method, path, "staff" if browser is desk else "client", answer.status_code)
                )
        answer = stranger.open(path, method=method)
        if answer.status_code not in ((302, 303) if method == "GET" else (302, 303, 400)):
            wrong.append((method, path, "stranger", answer.status_code))
    assert wrong == []
