"""Personal API tokens: made on the account's token page (shown once, kept as a hash) or by
``flask users token``, revoked there, and refused with a 401 once revoked or when their
account is closed."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.api import auth
from portal.extensions import db
from portal.models import ApiToken, User

NOW = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
TOKEN = re.compile(r"spt_[A-Za-z0-9_-]{43}")


def at(app, moment: datetime) -> None:
    app.config["CLOCK"] = lambda: moment


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme", "owner@acme.example", members=["member@acme.example"])


@pytest.fixture
def owner(forms, acme):
    """Acme's owner, signed in on ``forms``."""
    assert forms.sign_in(acme.owner.email).status_code == 303
    return acme.owner


def make_token(forms, name: str = "Monitoring"):
    """Make a token on the token page; the response and the token it shows."""
    response = forms.submit("/account/tokens", "/account/tokens?lang=en", {"name": name})
    found = TOKEN.findall(response.get_data(as_text=True))
    return response, (found[0] if found else None)


def token_for(app, email: str, name: str = "Script") -> str:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return auth.create_token(db.session, user, name, NOW).secret


def rows(app) -> list[ApiToken]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))
        db.session.expunge_all()
        return found


# --- the token page ----------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_and_prefix_are_kept(app, forms, owner):
    response, token = make_token(forms)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert token is not None and token.startswith("spt_")
    assert 'id="new-token"' in response.get_data(as_text=True)

    (row,) = rows(app)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:12]
    assert row.name == "Monitoring"
    assert token not in repr(vars(row))  # no column keeps the token itself

    listed = forms.client.get("/account/tokens?lang=en").get_data(as_text=True)
    assert token not in listed
    assert f"{row.prefix}…" in listed and "Monitoring" in listed and "Never" in listed


def test_the_account_page_leads_to_the_tokens(forms, owner):
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert 'href="/account/tokens"' in html


def test_a_token_acts_as_its_user_until_revoked_on_the_page(app, forms, owner):
    _response, token = make_token(forms)
    assert forms.client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200
    (row,) = rows(app)
    revoked = forms.submit("/account/tokens", f"/account/tokens/{row.id}/revoke")
    assert (revoked.status_code, revoked.location) == (303, "/account/tokens")

    refused = forms.client.get("/api/v1/tickets?lang=en", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "invalid_token"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    listed = forms.client.get("/account/tokens?lang=en").get_data(as_text=True)
    assert "Revoked on" in listed
    assert f'action="/account/tokens/{row.id}/revoke"' not in listed  # nothing left to revoke


def test_the_revoke_button_asks_first(forms, owner):
    make_token(forms)
    html = forms.client.get("/account/tokens?lang=en").get_data(as_text=True)
    assert 'data-confirm="Revoke the token Monitoring?' in html


def test_a_token_without_a_name_is_refused_beside_the_field(app, forms, owner, page):
    response, token = make_token(forms, name="   ")
    assert response.status_code == 422 and token is None
    assert page(response.get_data(as_text=True)).error_beside("name") == (
        "Name the token: what or who will use it."
    )
    assert rows(app) == []


def test_another_users_token_cannot_be_revoked(app, forms, owner, acme):
    theirs = token_for(app, acme.members[0].email)
    (row,) = rows(app)
    assert forms.submit("/account/tokens", f"/account/tokens/{row.id}/revoke").status_code == 404
    assert forms.client.get("/api/v1/tickets", headers=bearer(theirs)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/account/tokens"), ("post", "/account/tokens"), ("post", "/account/tokens/1/revoke")],
)
def test_the_token_pages_send_a_visitor_to_sign_in(forms, method, path):
    data = {"csrf_token": forms.token("/")} if method == "post" else None
    response = getattr(forms.client, method)(path, data=data)
    assert response.status_code in (302, 303) and "/login" in response.location


def test_staff_make_their_tokens_on_the_same_page(forms, staff):
    response, token = make_token(forms)
    assert response.status_code == 201 and token is not None


# --- who a token is refused to -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("no Authorization header", "authentication_required"),
        ("another scheme", "authentication_required"),
        ("an unknown token", "invalid_token"),
        ("a token cut short", "invalid_token"),
        ("a revoked token", "invalid_token"),
        ("the token of a deactivated account", "invalid_token"),
    ],
)
def test_the_api_answers_401_to(app, client, acme, sent, code):
    token = token_for(app, acme.owner.email)
    headers = bearer(token)
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        if sent == "no Authorization header":
            headers = {}
        elif sent == "another scheme":
            headers = {"Authorization": "Basic b3duZXI6cGFzcw=="}
        elif sent == "an unknown token":
            headers = bearer("spt_" + "x" * 43)
        elif sent == "a token cut short":
            headers = bearer(token[:-1])
        elif sent == "a revoked token":
            auth.revoke_token(db.session, row.user, row.id, NOW)
        elif sent == "the token of a deactivated account":
            row.user.active = False
            db.session.commit()
    response = client.get("/api/v1/tickets?lang=en", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert set(response.json["error"]) == {"code", "message", "field"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browser_without_a_token_is_refused_by_the_api(forms, owner):
    # The API takes no CSRF token: the session cookie must not be enough to write through it.
    response = forms.client.post("/api/v1/tickets", json={"title": "x", "description": "y"})
    assert response.status_code == 401


def test_a_tokens_use_is_written_down_at_most_once_a_minute(app, client, acme):
    token = token_for(app, acme.owner.email)
    for moment in (NOW, NOW + timedelta(seconds=30)):
        at(app, moment)
        assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200
    assert rows(app)[0].last_used_at == NOW
    at(app, NOW + timedelta(seconds=61))
    client.get("/api/v1/tickets", headers=bearer(token))
    assert rows(app)[0].last_used_at == NOW + timedelta(seconds=61)


# --- flask users token -------------------------------------------------------------------------


def test_the_cli_prints_a_token_that_works(app, runner, acme):
    result = runner.invoke(args=["users", "token", "OWNER@acme.example", "--name", "Backup"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert TOKEN.fullmatch(token)
    assert "not shown again" in result.stderr
    (row,) = rows(app)
    assert row.name == "Backup" and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    response = app.test_client().get("/api/v1/tickets", headers=bearer(token))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("nobody@example.com", "no account has this e-mail address"),
        ("gone@example.com", "the account is deactivated"),
    ],
)
def test_the_cli_refuses_with_exit_code_1(app, runner, make_user, email, says):
    make_user("gone@example.com", active=False)
    result = runner.invoke(args=["users", "token", email])
    assert result.exit_code == 1
    assert says in result.output
    assert rows(app) == []
