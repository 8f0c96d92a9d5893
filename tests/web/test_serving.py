"""Serving in production: health and readiness, proxies, request ids and logs, the size of a
request, security headers, and a database that goes away."""

from __future__ import annotations

import json
import logging
import re

import pytest
from conftest import visible_text

from portal import ROOT
from portal.logs import JsonFormatter
from tests.smtp import free_port


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "portal.requests"]


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="portal.requests")
    return lambda: request_lines(caplog)


# --- health and readiness -----------------------------------------------------------------


def test_healthz_answers_while_the_process_lives_and_asks_nothing_else(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_answers_200_at_the_newest_schema(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    newest = sorted(p.name[:4] for p in (ROOT / "migrations" / "versions").glob("0*.py"))[-1]
    assert response.json["schema"] == newest


def test_readyz_answers_503_while_the_database_does_not_answer(make_app):
    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    app = make_app(SQLALCHEMY_DATABASE_URI=down, SQLALCHEMY_ENGINE_OPTIONS={})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["reason"].startswith("database: ")


def test_readyz_answers_503_before_the_migrations_ran(make_app, tmp_path):
    empty = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'new.sqlite3'}",
        SQLALCHEMY_ENGINE_OPTIONS={},
    )
    response = empty.test_client().get("/readyz")
    assert response.status_code == 503
    assert "run 'flask --app app db upgrade'" in response.json["reason"]


# --- behind a proxy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "address", "scheme"),
    [
        pytest.param(0, "203.0.113.7", "10.0.0.1", "http", id="no proxy trusted: ignored"),
        pytest.param(1, "203.0.113.7", "203.0.113.7", "https", id="one proxy: the client it saw"),
        pytest.param(
            1, "198.51.100.1, 203.0.113.7", "203.0.113.7", "https", id="a forged entry stays out"
        ),
        pytest.param(
            2, "198.51.100.1, 203.0.113.7", "198.51.100.1", "https", id="two proxies, two hops"
        ),
    ],
)
def test_the_client_and_scheme_come_from_x_forwarded_headers_of_trusted_hops_only(
    make_app, logged, hops, forwarded_for, address, scheme
):
    client = make_app(PROXY_HOPS=hops).test_client()
    response = client.get(
        "/plans",
        # Each proxy adds its own entry.
        headers={
            "X-Forwarded-For": forwarded_for,
            "X-Forwarded-Proto": ", ".join(["https"] * hops or ["https"]),
        },
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert response.status_code == 200
    assert logged()[-1].remote_addr == address
    assert ("Strict-Transport-Security" in response.headers) is (scheme == "https")


def test_behind_a_proxy_the_sign_in_limit_counts_each_client_apart(
    make_app, make_user, form_client
):
    forms = form_client(make_app(PROXY_HOPS=1).test_client())
    make_user("staff@example.com")

    def attempt(address: str) -> int:
        data = {"email": "staff@example.com", "password": "wrong password"}
        return forms.submit(
            "/login", "/login", data, headers={"X-Forwarded-For": address}
        ).status_code

    assert [attempt("203.0.113.7") for _ in range(11)] == [401] * 10 + [429]
    assert attempt("203.0.113.8") == 401  # another client behind the same proxy


# --- request ids and logs ------------------------------------------------------------------


def test_each_request_has_an_id_sent_back_and_logged_with_its_line(client, logged):
    response = client.get("/plans?lang=en")
    request_id = response.headers["X-Request-Id"]
    assert len(request_id) == 32
    (line,) = logged()
    assert (line.request_id, line.method, line.path, line.status) == (
        request_id,
        "GET",
        "/plans",
        200,
    )
    assert line.duration_ms > 0


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        pytest.param("/confirm/Abc.123-xyz", "/confirm/…", id="a confirmation link's token"),
        pytest.param("/password/reset/Abc.123-xyz", "/password/reset/…", id="a reset token"),
        pytest.param("/invitations/Abc.123-xyz", "/invitations/…", id="an invitation token"),
        pytest.param("/plans/x%0a%1b[31m", "/plans/x\\x0a\\x1b[31m", id="control characters"),
    ],
)
def test_the_log_keeps_no_token_and_no_control_character(client, logged, path, kept):
    client.get(path)
    assert logged()[0].path == kept


def test_a_proxy_without_the_portals_address_is_refused_at_start(tmp_path):
    from portal.config import load_config

    with pytest.raises(ValueError, match="PROXY_HOPS is set: set PORTAL_URL too"):
        load_config({"PROXY_HOPS": "1"}, tmp_path)
    behind = load_config({"PROXY_HOPS": "1", "PORTAL_URL": "https://portal.example"}, tmp_path)
    assert behind["PROXY_HOPS"] == 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param("req-4f2a9c:01", True, id="a proxy's id is kept"),
        pytest.param("x" * 200, False, id="one too long is replaced"),
        pytest.param('a" level=error', False, id="one that would write into the log is replaced"),
    ],
)
def test_a_request_id_from_the_proxy_is_kept_when_it_is_a_sane_token(client, given, kept):
    answered = client.get("/healthz", headers={"X-Request-Id": given}).headers["X-Request-Id"]
    assert (answered == given) is kept


def test_a_json_log_line_is_one_object_with_the_request_fields():
    record = logging.LogRecord(
        "portal.requests", logging.INFO, __file__, 1, "%s %s %s", ("GET", "/plans", 200), None
    )
    record.request_id, record.method, record.path, record.status = "abc", "GET", "/plans", 200
    record.duration_ms = 3.2
    line = JsonFormatter().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert document["message"] == "GET /plans 200"
    assert (document["level"], document["logger"], document["request_id"]) == (
        "info",
        "portal.requests",
        "abc",
    )
    assert (document["method"], document["path"], document["status"], document["duration_ms"]) == (
        "GET",
        "/plans",
        200,
        3.2,
    )
    assert document["time"].endswith("+00:00")


def test_log_format_json_makes_every_logger_write_json(make_app, capsys):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        make_app(LOG_FORMAT="json").test_client().get("/healthz")
        logging.getLogger("portal.test").warning("Привет")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {"logger": "portal.requests", "path": "/healthz", "status": 200}.items() <= lines[
        0
    ].items()
    assert lines[-1]["message"] == "Привет" and lines[-1]["request_id"] == "-"


def test_a_wrong_log_format_is_refused_at_start(tmp_path):
    from portal.config import load_config

    with pytest.raises(ValueError, match="LOG_FORMAT"):
        load_config({"LOG_FORMAT": "xml"}, tmp_path)


# --- the size of a request -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "The request is too large: at most 1 MB can be sent at once."),
        ("ru", "Запрос слишком велик"),
    ],
)
def test_a_body_over_the_limit_answers_413_in_the_readers_language(make_app, language, says):
    client = make_app(MAX_CONTENT_LENGTH=1024 * 1024).test_client()
    response = client.post(
        f"/register?lang={language}",
        data={"organization": "x" * (1024 * 1024 + 1)},
        headers={"Referer": "http://localhost/register"},
    )
    assert response.status_code == 413
    assert says in visible_text(response.get_data(as_text=True))
    assert 'href="/register"' in response.get_data(as_text=True)  # back to the form


# --- security headers ----------------------------------------------------------------------


def test_pages_allow_only_the_portals_own_scripts_and_styles(client):
    policy = client.get("/plans").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self' https://checkout.stripe.com"


def test_no_page_carries_an_inline_script_or_style(client, staff):
    for path in ("/plans", "/login", "/register", "/staff/outbox", "/staff/callbacks"):
        html = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert not re_inline_script(html), path
        assert " style=" not in html and "<style" not in html, path


def re_inline_script(html: str) -> list[str]:
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


def test_the_checkout_of_a_stripe_compatible_server_is_a_place_forms_may_lead(make_app):
    policy = make_app(STRIPE_API_BASE="http://127.0.0.1:8420").test_client().get("/plans")
    expected = "form-action 'self' https://checkout.stripe.com http://127.0.0.1:8420"
    assert expected in policy.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/plans", "/healthz", "/static/css/portal.css", "/nowhere"])
def test_every_answer_has_a_referrer_policy_and_no_sniffing(client, path):
    with client.get(path) as response:
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/plans").headers
    secure = client.get("/plans", base_url="https://portal.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")


# --- a database that goes away --------------------------------------------------------------


DOWN = "postgresql+psycopg://postgres@127.0.0.1:{port}/test"


def test_with_the_database_down_an_anonymous_visitor_gets_the_503_page(make_app):
    broken = make_app(
        SQLALCHEMY_DATABASE_URI=DOWN.format(port=free_port()), SQLALCHEMY_ENGINE_OPTIONS={}
    ).test_client()
    answer = broken.get("/plans?lang=en")
    assert answer.status_code == 503
    assert "The database is not available right now." in visible_text(answer.get_data(as_text=True))


def test_with_the_database_down_a_signed_in_visitor_gets_the_same_503_page(make_app, staff, client):
    cookie = client.get_cookie("session")
    broken = make_app(
        SQLALCHEMY_DATABASE_URI=DOWN.format(port=free_port()), SQLALCHEMY_ENGINE_OPTIONS={}
    ).test_client()
    broken.set_cookie("session", cookie.value)
    answer = broken.get("/staff/callbacks?lang=en")
    assert answer.status_code == 503
    assert "The database is not available right now." in visible_text(answer.get_data(as_text=True))
