"""Staff accounts: sign in and out, the login rate limit, ``flask users``, cookie settings."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.config import load_config
from portal.converters import local_path
from portal.extensions import db, limiter
from portal.models import User
from tests.smtp import free_port

RIGHT = "the account's own password"


def user(app, email: str) -> User | None:
    with app.app_context():
        found = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if found is not None:
            db.session.expunge(found)
        return found


# --- signing in -----------------------------------------------------------------------------


def test_the_sign_in_page_has_labelled_fields_and_a_csrf_token(client, page):
    response = client.get("/login?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form = page(html)
    assert form.inputs["email"]["type"] == "email"
    assert form.inputs["email"]["autocomplete"] == "username"
    assert form.inputs["password"]["type"] == "password"
    assert form.inputs["password"]["autocomplete"] == "current-password"
    assert form.inputs["csrf_token"]["type"] == "hidden"
    assert '<label for="email">E-mail</label>' in html


def signed_in(forms) -> bool:
    """Whether the client's session is signed in: the sign-in page sends it on."""
    return forms.client.get("/login").status_code == 303


def test_signing_in_keeps_the_session_signed_in(make_user, forms):
    make_user("olena@example.com")
    assert not signed_in(forms)
    assert forms.sign_in("olena@example.com").status_code == 303
    assert signed_in(forms)


def test_the_e_mail_is_read_whatever_its_case(make_user, forms):
    make_user("olena@example.com")
    assert forms.sign_in("  Olena@Example.COM ").status_code == 303


def test_a_client_account_lands_on_the_plans(make_user, forms):
    make_user("client@example.com", role="client")
    assert forms.sign_in("client@example.com").location == "/"


WRONG = [
    ("a wrong password", "olena@example.com", "not the password"),
    ("an unknown address", "nobody@example.com", RIGHT),
    ("a deactivated account", "gone@example.com", RIGHT),
]


@pytest.mark.parametrize(("case", "email", "password"), WRONG, ids=[row[0] for row in WRONG])
def test_a_failed_sign_in_answers_401_with_one_message_that_never_says_which_part_was_wrong(
    make_user, forms, page, case, email, password
):
    account = make_user("olena@example.com")
    make_user("gone@example.com", active=False)
    password = account.password if password == RIGHT else password
    response = forms.sign_in(email, password, query_string={"lang": "en"})
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert page(html).text("sign-in-error") == "Wrong e-mail or password."
    assert page(html).value("email") == email  # kept
    assert not page(html).value("password")  # never sent back
    assert not signed_in(forms)


def test_an_empty_sign_in_form_answers_422_with_the_messages_beside_the_fields(forms, page):
    response = forms.submit("/login", "/login?lang=en", {"email": "", "password": ""})
    assert response.status_code == 422
    form = page(response.get_data(as_text=True))
    assert form.error_beside("email") == "Enter your e-mail address."
    assert form.error_beside("password") == "Enter your password."


def test_signing_in_needs_the_csrf_token(make_user, client):
    account = make_user("olena@example.com")
    client.get("/login")
    response = client.post(
        "/login?lang=en",
        data={"email": account.email, "password": account.password},
        headers={"Referer": "http://localhost/login?next=/account"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form has expired. Reload the page and send it again." in html
    assert 'href="/login?next=/account">Back to the form</a>' in html
    # A page of another site, or one that only looks like ours, is no way back.
    for referrer in ("http://evil.example/login", "http://localhost//evil.example/x"):
        refused = client.post("/login", data={}, headers={"Referer": referrer})
        assert "Back to the form" not in refused.get_data(as_text=True)


def test_sign_in_returns_to_the_page_asked_for(make_user, forms):
    account = make_user("olena@example.com")
    asked = "/login?next=%2Fstaff%2Fcallbacks%3Flang%3Den"
    assert forms.client.get(asked).status_code == 200
    token = forms.token(asked)
    response = forms.client.post(
        asked,
        data={
            "csrf_token": token,
            "email": account.email,
            "password": account.password,
            "next": "/staff/callbacks?lang=en",
        },
    )
    assert response.location == "/staff/callbacks?lang=en"


NEXT = [
    ("/staff/callbacks", "/staff/callbacks"),
    ("/staff/callbacks?lang=uk#top", "/staff/callbacks?lang=uk#top"),
    ("https://evil.example/", None),
    ("//evil.example/", None),
    ("/\\evil.example/", None),
    ("\\\\evil.example", None),
    ("javascript:alert(1)", None),
    ("staff/callbacks", None),
    ("/staff\r\nSet-Cookie: x=1", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("asked", "honoured"), NEXT, ids=[repr(row[0]) for row in NEXT])
def test_next_is_honoured_only_for_a_path_on_this_site(asked, honoured):
    assert local_path(asked) == honoured


def test_a_next_to_another_site_lands_on_the_usual_page(make_user, forms):
    account = make_user("client@example.com", role="client")
    token = forms.token("/login")
    response = forms.client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": account.email,
            "password": account.password,
            "next": "//evil.example/",
        },
    )
    assert response.location == "/"


def test_sign_out_is_a_post_and_ends_the_session(staff, forms):
    assert forms.client.get("/logout").status_code == 405
    response = forms.submit("/", "/logout")
    assert response.status_code == 303
    assert response.location == "/"
    assert not signed_in(forms)


def test_a_cookie_copied_before_signing_out_signs_nobody_in_after_it(app, staff, forms):
    copied = forms.client.get_cookie("session").value
    assert forms.submit("/", "/logout").status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", copied)
    answer = thief.get("/staff/callbacks")
    assert answer.status_code == 302 and answer.location.startswith("/login")


def test_signing_out_ends_the_accounts_sessions_in_other_browsers_too(
    app, staff, forms, form_client
):
    other = form_client(app.test_client())
    other.sign_in(staff.email)
    assert other.client.get("/staff/callbacks").status_code == 200
    forms.submit("/", "/logout")
    assert other.client.get("/staff/callbacks").status_code == 302


def test_after_signing_out_signing_in_again_works(staff, forms):
    forms.submit("/", "/logout")
    assert forms.sign_in(staff.email).status_code == 303
    assert forms.client.get("/staff/callbacks").status_code == 200


# --- the rate limit -------------------------------------------------------------------------


def test_sign_in_attempts_are_limited_to_ten_a_minute_per_address(make_user, forms):
    account = make_user("olena@example.com")
    token = forms.token("/login")
    attempt = {"csrf_token": token, "email": "olena@example.com", "password": "guess"}
    for _ in range(10):
        assert forms.client.post("/login", data=attempt).status_code == 401
    refused = forms.client.post(
        "/login?lang=en", data=attempt, headers={"Referer": "http://localhost/login"}
    )
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    html = refused.get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "Too many sign-in attempts from your address. Wait a minute and try again." in html
    assert int(refused.headers["Retry-After"]) > 0
    assert 'href="/login">Back to the form</a>' in html  # to try again after the wait
    # Even the right password waits; another address does not; reading the page is not limited.
    right = {**attempt, "password": account.password}
    assert forms.client.post("/login", data=right).status_code == 429
    other = forms.client.post("/login", data=right, environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 303
    assert forms.client.get("/login").status_code in (200, 303)


def test_the_429_page_speaks_the_users_language(make_user, forms):
    token = forms.token("/login")
    attempt = {"csrf_token": token, "email": "olena@example.com", "password": "guess"}
    for _ in range(10):
        forms.client.post("/login", data=attempt)
    refused = forms.client.post("/login", data=attempt, headers={"Accept-Language": "uk"})
    assert refused.status_code == 429
    assert '<html lang="uk"' in refused.get_data(as_text=True)


# --- the users table ------------------------------------------------------------------------


def test_an_e_mail_has_one_account_even_past_the_service(app, make_user):
    make_user("olena@example.com")
    with app.app_context():
        db.session.add(
            User(
                email="olena@example.com",
                name="Twin",
                password_hash="x",
                role="staff",
                created_at=user(app, "olena@example.com").created_at,
                active=True,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


# --- flask users ----------------------------------------------------------------------------


def test_flask_users_create_asks_for_the_password_twice_without_echo(app, runner):
    result = runner.invoke(
        args=["users", "create", "Olena@Example.com", "--name", "Olena Koval", "--role", "admin"],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output
    assert "Password: " in result.output and "Repeat for confirmation: " in result.output
    created = user(app, "olena@example.com")
    assert (created.name, created.role, created.active) == ("Olena Koval", "admin", True)
    assert created.is_staff
    assert created.password_hash.startswith("scrypt:")
    assert created.created_at.tzinfo is not None


def test_flask_users_create_defaults_to_staff_and_lists_accounts(app, runner):
    runner.invoke(args=["users", "create", "a@example.com", "--name", "A"], input="p4ssw0rd!\n" * 2)
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert result.output == "a@example.com\tstaff\tA\tactive\n"


REFUSED = [
    ("a short password", ["x@example.com", "--name", "X"], "short\nshort\n", "at least 8"),
    ("two passwords that differ", ["x@example.com", "--name", "X"], "p4ssw0rd!\nother!!!\n", ""),
    ("a client role", ["x@example.com", "--name", "X", "--role", "client"], "", "client"),
    ("no name", ["x@example.com"], "", "--name"),
    ("no address", ["not-an-address", "--name", "X"], "p4ssw0rd!\n" * 2, "not an e-mail"),
]


@pytest.mark.parametrize(("case", "args", "typed", "said"), REFUSED, ids=[r[0] for r in REFUSED])
def test_flask_users_create_refuses(app, runner, case, args, typed, said):
    result = runner.invoke(args=["users", "create", *args], input=typed)
    assert result.exit_code != 0
    assert said in result.output
    assert user(app, "x@example.com") is None


def test_flask_users_create_refuses_an_address_taken(app, runner, make_user):
    make_user("olena@example.com")
    result = runner.invoke(
        args=["users", "create", "OLENA@example.com", "--name", "Again"], input="p4ssw0rd!\n" * 2
    )
    assert result.exit_code == 1
    assert "olena@example.com already has an account" in result.output


# --- cookie settings ------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_same_site_lax_and_secure_unless_developing(tmp_path):
    settings = load_config({}, tmp_path)
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert load_config({"FLASK_DEBUG": "1"}, tmp_path)["SESSION_COOKIE_SECURE"] is False
    assert load_config({"FLASK_DEBUG": "0"}, tmp_path)["SESSION_COOKIE_SECURE"] is True


def test_a_test_app_sends_its_session_cookie_over_plain_http(app, make_app):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert make_app(SESSION_COOKIE_SECURE=True).config["SESSION_COOKIE_SECURE"] is True


def test_the_session_cookie_set_at_sign_in_carries_its_flags(make_user, forms):
    make_user("olena@example.com")
    response = forms.sign_in("olena@example.com")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_attempts_are_counted_in_redis_when_redis_url_is_set(tmp_path):
    assert load_config({}, tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"
    environ = {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    assert load_config(environ, tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_a_redis_that_does_not_answer_costs_no_sign_in_and_limits_still_hold(
    make_app, form_client, monkeypatch
):
    # The limiter is one object for every app of this process: the tests that follow get
    # it back with Redis believed alive.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    closed = f"redis://127.0.0.1:{free_port()}/15"  # nothing listens there
    browser = form_client(make_app(RATELIMIT_STORAGE_URI=closed).test_client())
    statuses = [browser.sign_in("nobody@example.com", "guess").status_code for _ in range(11)]
    # Counted in the process's memory until Redis answers again.
    assert statuses == [401] * 10 + [429]


def test_jobs_and_limits_give_up_on_a_silent_redis_after_a_few_seconds(tmp_path):
    from portal.jobs import build_huey

    settings = load_config({"REDIS_URL": "redis://127.0.0.1:6379/15"}, tmp_path)
    assert settings["RATELIMIT_STORAGE_OPTIONS"] == {
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
    }
    pool = build_huey(settings).storage.pool
    assert (pool.connection_kwargs["socket_timeout"], pool.connection_kwargs["db"]) == (5, 15)
