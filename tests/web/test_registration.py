"""Client registration with e-mail confirmation, and password resets: links that work once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from conftest import PASSWORD, link_in
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Organization, OutboxMail, User
from tests.smtp import free_port, smtp_server

FIXED_NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # the tests' clock
NEW_PASSWORD = "a new and longer secret"
VALID = {
    "organization": "ТОВ Ромашка",
    "name": "Оксана Петренко",
    "email": "Oksana@Romashka.example",
    "password": PASSWORD,
    "password_again": PASSWORD,
    "language": "ru",
    "timezone": "Europe/Kyiv",
    "terms": "y",
}


def register(forms, **changes):
    return forms.submit("/register", "/register", {**VALID, **changes})


def choose_new_password(forms, link: str):
    """Follow a reset ``link`` and set NEW_PASSWORD, as the person would."""
    data = {"csrf_token": forms.token(link), "password": NEW_PASSWORD}
    return forms.client.post(link, data={**data, "password_again": NEW_PASSWORD})


def stored_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar()


def signed_in(client) -> bool:
    return client.get("/login").status_code == 303


def strip_csrf(html: str) -> str:
    """A page without its CSRF tokens, which carry the second they were signed."""
    return re.sub(r'(name="csrf_token"[^>]*value=|"X-CSRFToken": )"[^"]+"', r"\1", html)


def later(app, **delta) -> None:
    """Move the app's clock forward."""
    app.config["CLOCK"] = lambda: FIXED_NOW + timedelta(**delta)


# --- the form ---------------------------------------------------------------------------------


def test_the_registration_form_has_labelled_fields_a_csrf_token_and_sensible_defaults(client, page):
    response = client.get("/register?lang=uk")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form = page(html)
    assert form.inputs["csrf_token"]["type"] == "hidden"
    assert form.inputs["email"]["type"] == "email"
    assert form.inputs["email"]["autocomplete"] == "email"
    assert form.inputs["password"]["type"] == "password"
    assert form.inputs["password"]["autocomplete"] == "new-password"
    assert form.inputs["password"]["minlength"] == "10"
    assert form.inputs["password_again"]["type"] == "password"
    assert form.inputs["terms"]["type"] == "checkbox"
    assert form.value("language") == "uk"  # the page's language
    assert form.value("timezone") == "Europe/Kyiv"  # the catalog's (KBS)
    for label in ('for="organization"', 'for="name"', 'for="email"', 'for="timezone"'):
        assert f"<label {label}" in html
    for zone in ("Asia/Tehran", "Asia/Almaty", "Europe/Moscow", "Europe/London", "UTC"):
        assert f'value="{zone}"' in html


def test_the_time_zones_of_another_catalog_are_offered_first_hand(make_app, page):
    client = make_app(PORTAL_CATALOG="iotex").test_client()
    html = client.get("/register").get_data(as_text=True)
    assert page(html).value("timezone") == "Asia/Tehran"
    assert page(html).value("language") == "fa"


# The time-zone list starts with the catalog's zone, then its country's other zones.
FIRST_ZONES = [
    # catalog, the group first, its first zones
    ("kbs", "uk", "Україна", ["Europe/Kyiv", "Europe/Simferopol"]),
    ("iotex", "fa", "ایران", ["Asia/Tehran"]),
    ("iiko", "ru", "Россия", ["Asia/Omsk", "Europe/Kaliningrad"]),
]


@pytest.mark.parametrize(("catalog", "lang", "group", "zones"), FIRST_ZONES)
def test_the_time_zone_list_starts_with_the_catalogs_zone_and_country(
    make_app, catalog, lang, group, zones
):
    client = make_app(PORTAL_CATALOG=catalog).test_client()
    html = client.get(f"/register?lang={lang}").get_data(as_text=True)
    listed = html.split('name="timezone"')[1].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)"', listed)
    assert groups[0] == group and len(groups) == 2
    first_group = listed.split("</optgroup>")[0]
    assert re.findall(r'<option[^>]*value="([^"]+)"', first_group)[: len(zones)] == zones
    # Every zone CLDR places in a country is in the list, each with its country to search by.
    assert len(re.findall(r"<option", listed)) > 300
    assert re.search(r'data-country="[^"]+"[^>]*value="America/Sao_Paulo"', listed)


def test_the_time_zone_list_has_a_search_box_that_javascript_shows(client):
    html = client.get("/register?lang=en").get_data(as_text=True)
    box = re.search(r'<input type="search"[^>]*data-narrows="timezone"[^>]*>', html).group(0)
    assert " hidden" in box and 'placeholder="Find: city or country"' in box


# --- registering and confirming ---------------------------------------------------------------


def test_registration_sends_a_confirmation_in_the_users_language_whose_link_signs_in(
    app, forms, mails, page
):
    response = register(forms)
    assert response.status_code == 303
    assert response.location == "/register/sent"
    sent = forms.client.get("/register/sent?lang=en")
    assert "A link to confirm your address is on its way to oksana@romashka.example." in (
        sent.get_data(as_text=True)
    )
    assert "It works for 2 days." in sent.get_data(as_text=True)
    # No mail server: the page says where the mail is, so a first try of the portal works.
    assert "your mail waits in its outbox" in sent.get_data(as_text=True)

    owner = stored_user(app, "oksana@romashka.example")
    assert (owner.role, owner.org_role, owner.locale) == ("client", "owner", "ru")
    assert owner.email_confirmed_at is None
    assert owner.password_hash.startswith("scrypt:")
    with app.app_context():
        organization = db.session.get(Organization, owner.organization_id)
        assert (organization.name, organization.language, organization.timezone) == (
            "ТОВ Ромашка",
            "ru",
            "Europe/Kyiv",
        )
    assert not signed_in(forms.client)

    (mail,) = mails()
    assert mail["To"].addresses[0].addr_spec == "oksana@romashka.example"
    assert mail["To"].addresses[0].display_name == "Оксана Петренко"
    assert mail["Content-Language"] == "ru"
    assert "ТОВ Ромашка" in mail["Subject"]
    assert "2 дня" in mail.get_content()  # the link's lifetime, said in Russian
    link = link_in(mail)
    assert link.startswith("/confirm/")

    confirmed = forms.client.get(link)
    assert confirmed.status_code == 303
    assert confirmed.location == "/account"
    assert confirmed.headers["Referrer-Policy"] == "no-referrer"
    assert stored_user(app, "oksana@romashka.example").email_confirmed_at == FIXED_NOW
    account = forms.client.get("/account?lang=en")
    assert account.status_code == 200
    assert "Your e-mail address is confirmed. Welcome!" in account.get_data(as_text=True)
    assert "ТОВ Ромашка" in account.get_data(as_text=True)


def test_a_client_who_chose_a_plan_registers_and_the_link_leads_back_to_the_order(
    app, forms, mails, page
):
    chosen = forms.client.get("/orders/new?plan=optima&term=7m")
    login = forms.client.get(chosen.location + "&lang=en").get_data(as_text=True)
    assert "Sign in to place your order." in login
    (register_link,) = re.findall(r'href="(/register\?next=[^"]+)"', login)
    html = forms.client.get(register_link.replace("&amp;", "&")).get_data(as_text=True)
    assert page(html).value("next") == "/orders/new?plan=optima&term=7m"
    response = register(forms, next=page(html).value("next"))
    assert response.status_code == 303
    confirmed = forms.client.get(link_in(mails()[0]))
    assert confirmed.location == "/orders/new?plan=optima&term=7m"
    summary = forms.client.get(confirmed.location)
    assert summary.status_code == 200 and 'data-total="40740.00"' in summary.get_data(as_text=True)


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_the_link_never_leads_off_the_site(app, forms, mails, elsewhere):
    register(forms, next=elsewhere)
    link = link_in(mails()[0])
    assert "next=" not in link  # the form refused it
    # A link whose next was altered by hand does not lead there either.
    altered = f"{link}?{urlencode({'next': elsewhere})}"
    assert forms.client.get(altered).location == "/account"


def test_staff_opening_a_confirmation_from_the_outbox_stay_signed_in_as_themselves(
    app, forms, mails, make_user
):
    register(forms)
    link = link_in(mails()[0])
    make_user("desk@example.com", role="staff")
    forms.client.set_cookie("lang", "en")
    forms.sign_in("desk@example.com")
    opened = forms.client.get(link)
    assert opened.status_code == 303 and opened.location == "/staff/callbacks"
    assert stored_user(app, "oksana@romashka.example").email_confirmed_at == FIXED_NOW
    desk = forms.client.get("/staff/callbacks?lang=en")
    assert desk.status_code == 200
    assert "oksana@romashka.example is confirmed: its owner can sign in now." in desk.get_data(
        as_text=True
    )


def test_a_client_cannot_sign_in_before_confirming_and_is_offered_a_new_link(
    app, forms, mails, page
):
    register(forms)
    refused = forms.sign_in("oksana@romashka.example", query_string={"lang": "en"})
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert page(html).text("sign-in-error").startswith("Your e-mail address is not confirmed yet.")
    assert 'action="/confirm/resend"' in html
    assert not signed_in(forms.client)
    # The button sends a new link; it works like the first.
    forms.submit("/login", "/confirm/resend", {"email": "oksana@romashka.example"})
    _first, second = mails()
    assert forms.client.get(link_in(second)).status_code == 303
    assert forms.submit("/", "/logout").status_code == 303
    assert forms.sign_in("oksana@romashka.example").status_code == 303


def test_a_wrong_password_on_an_unconfirmed_account_says_only_wrong_password(app, forms, page):
    register(forms)
    refused = forms.sign_in("oksana@romashka.example", "not the password", query_string="lang=en")
    assert refused.status_code == 401
    assert page(refused.get_data(as_text=True)).text("sign-in-error") == "Wrong e-mail or password."
    assert 'action="/confirm/resend"' not in refused.get_data(as_text=True)


# --- links that do not work -------------------------------------------------------------------


def test_a_confirmation_link_works_once(app, forms, mails, page):
    register(forms)
    link = link_in(mails()[0])
    assert forms.client.get(link).status_code == 303
    again = forms.client.get(link, headers={"Accept-Language": "en"})
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert 'data-reason="used"' in html
    assert '<html lang="ru"' in html  # the account's language, whatever the browser says
    assert 'action="/confirm/resend"' in html
    assert page(html).inputs["csrf_token"]["value"]


def test_a_confirmation_link_expires_after_two_days(app, forms, mails):
    register(forms)
    link = link_in(mails()[0])
    later(app, days=2, seconds=1)
    expired = forms.client.get(link + "?lang=en")
    assert expired.status_code == 400
    assert 'data-reason="expired"' in expired.get_data(as_text=True)
    assert "This link has expired." in expired.get_data(as_text=True)
    assert '<html lang="en"' in expired.get_data(as_text=True)  # ?lang= chose
    assert stored_user(app, "oksana@romashka.example").email_confirmed_at is None


def test_a_confirmation_link_still_works_on_its_last_second(app, forms, mails):
    register(forms)
    later(app, days=2)
    assert forms.client.get(link_in(mails()[0])).status_code == 303


def test_the_link_lifetime_is_a_setting(make_app, form_client, outbox, mails):
    app = make_app(OUTBOX_DIR=str(outbox), TOKEN_MAX_AGE_SECONDS={"confirm": 60, "reset": 60})
    forms = form_client(app.test_client())
    register(forms)
    later(app, seconds=61)
    assert forms.client.get(link_in(mails()[0])).status_code == 400


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: token.split(".")[0],
        lambda token: "garbage",
    ],
    ids=["signature", "payload", "truncated", "garbage"],
)
def test_an_altered_confirmation_link_is_refused(app, forms, mails, alter):
    register(forms)
    token = link_in(mails()[0]).removeprefix("/confirm/")
    refused = forms.client.get(f"/confirm/{alter(token)}?lang=en")
    assert refused.status_code == 400
    assert 'data-reason="invalid"' in refused.get_data(as_text=True)
    assert stored_user(app, "oksana@romashka.example").email_confirmed_at is None


def test_a_reset_link_does_not_confirm_and_a_confirmation_link_does_not_reset(app, forms, mails):
    register(forms)
    forms.submit("/password/forgot", "/password/forgot", {"email": VALID["email"]})
    confirm, reset = mails()
    confirm_token = link_in(confirm).removeprefix("/confirm/")
    reset_token = link_in(reset).removeprefix("/password/reset/")
    assert forms.client.get(f"/confirm/{reset_token}").status_code == 400
    assert forms.client.get(f"/password/reset/{confirm_token}").status_code == 400


def test_a_confirmation_link_of_a_deactivated_account_does_not_work(app, forms, mails):
    register(forms)
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        user.active = False
        db.session.commit()
    assert forms.client.get(link_in(mails()[0])).status_code == 400


# --- asking for a new link --------------------------------------------------------------------


def test_asking_for_a_new_link_answers_the_same_whatever_the_address(
    app, forms, mails, make_organization
):
    register(forms)
    make_organization("Confirmed", "confirmed@example.com")
    answers = {}
    for email in ("oksana@romashka.example", "confirmed@example.com", "nobody@example.com"):
        response = forms.submit(
            "/confirm/resend", "/confirm/resend?lang=en", {"email": email.upper()}
        )
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        answers[email] = strip_csrf(html).replace(email.upper(), "ADDRESS")
    assert len(set(answers.values())) == 1
    assert len(mails()) == 2  # the registration's, and one new link for the unconfirmed address
    assert mails()[1]["To"].addresses[0].addr_spec == "oksana@romashka.example"


def test_asking_for_a_new_link_needs_an_address(forms, page):
    response = forms.submit("/confirm/resend", "/confirm/resend?lang=en", {"email": "nope"})
    assert response.status_code == 422
    assert (
        page(response.get_data(as_text=True))
        .error_beside("email")
        .startswith("This is not an e-mail address.")
    )


# --- mistakes in the form ---------------------------------------------------------------------


@pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])
def test_an_address_with_an_account_is_refused_with_one_message(
    app, forms, page, make_organization, confirmed
):
    make_organization("First", "oksana@romashka.example", confirmed=confirmed)
    forms.client.set_cookie("lang", "en")
    response = register(forms, organization="Second")
    assert response.status_code == 422
    message = page(response.get_data(as_text=True)).error_beside("email")
    assert message == (
        "This e-mail address already has an account. Sign in, or reset the password "
        "if you forgot it."
    )
    assert count(app, Organization) == 1


def test_a_staff_address_is_taken_too(app, forms, page, make_user):
    make_user("oksana@romashka.example", role="staff")
    assert register(forms).status_code == 422
    assert count(app, Organization) == 0


MISTAKES = [
    ("organization", {"organization": "  "}, "Enter the name of your organization."),
    ("name", {"name": ""}, "Enter your name."),
    ("email", {"email": "oksana"}, "This is not an e-mail address. Type it like name@example.com."),
    ("email", {"email": "a@b"}, "This is not an e-mail address. Type it like name@example.com."),
    ("password", {"password": "short", "password_again": "short"}, "at least 10 characters"),
    ("password_again", {"password_again": "something else"}, "The two passwords differ."),
    ("language", {"language": "de"}, "Choose a language from the list."),
    ("timezone", {"timezone": "Mars/Olympus"}, "Choose a time zone from the list."),
    ("timezone", {"timezone": "../../etc/passwd"}, "Choose a time zone from the list."),
    ("terms", {"terms": ""}, "An account needs your agreement to the terms."),
]


@pytest.mark.parametrize(
    ("field", "changes", "message"), MISTAKES, ids=[f"{m[0]}:{m[1]}" for m in MISTAKES]
)
def test_a_mistake_answers_422_with_the_message_beside_the_field_and_the_values_kept(
    app, forms, page, mails, field, changes, message
):
    response = forms.submit("/register", "/register?lang=en", {**VALID, **changes})
    assert response.status_code == 422
    form = page(response.get_data(as_text=True))
    assert message in form.error_beside(field)
    for kept in ("organization", "name", "email", "language", "timezone"):
        if kept not in changes:
            assert form.value(kept) == VALID[kept], kept
    assert not form.value("password")
    assert not form.value("password_again")
    assert count(app, User) == 0
    assert mails() == []


def test_any_iana_time_zone_is_accepted(app, forms):
    assert register(forms, timezone="America/Sao_Paulo").status_code == 303
    with app.app_context():
        assert db.session.execute(select(Organization.timezone)).scalar() == "America/Sao_Paulo"


def test_registering_needs_the_csrf_token(app, client):
    client.get("/register")
    assert client.post("/register", data=VALID).status_code == 400
    assert count(app, User) == 0


def test_a_signed_in_user_is_sent_on_from_the_registration_page(forms, make_organization):
    make_organization("Acme", "owner@acme.example")
    forms.sign_in("owner@acme.example")
    assert forms.client.get("/register").status_code == 303


def test_the_sent_page_needs_a_registration(client):
    assert client.get("/register/sent").location == "/register"


# --- mail that cannot go ----------------------------------------------------------------------


def test_a_mail_server_that_is_down_loses_no_registration_and_the_mail_goes_once_it_is_up(
    make_app, form_client
):
    port = free_port()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    forms = form_client(app.test_client())
    assert register(forms).status_code == 303
    html = forms.client.get("/register/sent?lang=en").get_data(as_text=True)
    assert "is on its way to oksana@romashka.example" in html
    assert stored_user(app, "oksana@romashka.example") is not None
    with app.app_context():
        (waiting,) = db.session.scalars(select(OutboxMail)).all()
        assert (waiting.status, waiting.attempts) == ("pending", 1)
        assert "Connection refused" in waiting.last_error
    with smtp_server(port) as inbox, app.app_context():
        app.config["CLOCK"] = lambda: FIXED_NOW + timedelta(minutes=1)
        app.extensions["jobs"].run_by_hand("mail.deliver")
        (message,) = inbox.messages()
        assert message["Message-ID"] == waiting.message_id
        assert link_in(message).startswith("/confirm/")


# --- addresses with letters outside ASCII --------------------------------------------------

UNICODE_ADDRESS = "Jürgen@Müller.example"


def test_an_address_outside_ascii_registers_and_is_confirmed_by_the_mailed_link(
    make_app, form_client
):
    with smtp_server() as inbox:
        app = make_app(MAIL_SERVER=inbox.host, MAIL_PORT=inbox.port)
        forms = form_client(app.test_client())
        assert register(forms, email=UNICODE_ADDRESS).status_code == 303
        (message,) = inbox.messages()
        assert message["To"].addresses[0].addr_spec == "jürgen@müller.example"
        assert forms.client.get(link_in(message)).location == "/account"
    assert stored_user(app, "jürgen@müller.example").email_confirmed_at == FIXED_NOW


@pytest.mark.parametrize("path", ["/confirm/resend", "/password/forgot"])
def test_new_links_go_to_an_address_outside_ascii(app, forms, mails, path):
    assert register(forms, email=UNICODE_ADDRESS).status_code == 303
    response = forms.submit(path, path, {"email": UNICODE_ADDRESS})
    assert response.status_code == 200
    assert [m["To"].addresses[0].addr_spec for m in mails()] == ["jürgen@müller.example"] * 2


def test_a_mail_server_without_smtputf8_leaves_the_registration_and_says_why_to_staff(
    make_app, form_client
):
    with smtp_server(smtputf8=False) as inbox:
        app = make_app(MAIL_SERVER=inbox.host, MAIL_PORT=inbox.port)
        assert register(form_client(app.test_client()), email=UNICODE_ADDRESS).status_code == 303
        assert inbox.envelopes == []
    with app.app_context():
        (mail,) = db.session.scalars(select(OutboxMail)).all()
        assert mail.status == "failed" and "SMTPUTF8" in mail.last_error
    assert stored_user(app, "jürgen@müller.example") is not None


# --- links are built on PORTAL_URL ------------------------------------------------------------


def test_links_in_mail_use_portal_url_and_never_the_requests_host(make_app, outbox, mails, page):
    app = make_app(OUTBOX_DIR=str(outbox), PORTAL_URL="https://portal.example")
    client = app.test_client()
    # Someone asks with a Host header of their own, hoping the link leads to their site.
    html = client.get("/register", base_url="http://evil.example").get_data(as_text=True)
    token = page(html).value("csrf_token")
    posted = client.post(
        "/register", data={**VALID, "csrf_token": token}, base_url="http://evil.example"
    )
    assert posted.status_code == 303
    assert "https://portal.example/confirm/" in mails()[0].get_content()
    assert "evil.example" not in mails()[0].get_content()


# --- password reset ---------------------------------------------------------------------------


def test_forgot_password_answers_the_same_whatever_the_address(
    app, forms, mails, make_organization
):
    make_organization("Acme", "owner@acme.example")
    answers = set()
    for email in ("owner@acme.example", "nobody@acme.example"):
        response = forms.submit("/password/forgot", "/password/forgot?lang=en", {"email": email})
        assert response.status_code == 200
        answers.add(strip_csrf(response.get_data(as_text=True)).replace(email, "ADDRESS"))
    assert len(answers) == 1
    (mail,) = mails()
    assert mail["To"].addresses[0].addr_spec == "owner@acme.example"
    assert mail["Content-Language"] == "uk"  # the organization's language
    assert "1 година" in mail.get_content()


def test_a_reset_link_sets_a_new_password_once(app, forms, mails, make_organization, page):
    make_organization("Acme", "owner@acme.example")
    forms.submit("/password/forgot", "/password/forgot", {"email": "owner@acme.example"})
    link = link_in(mails()[0])
    shown = forms.client.get(link)
    assert shown.status_code == 200
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert page(shown.get_data(as_text=True)).inputs["password"]["autocomplete"] == "new-password"
    token = forms.token(link)
    done = forms.client.post(
        link, data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert done.status_code == 303
    assert done.location == "/login"
    assert forms.sign_in("owner@acme.example", PASSWORD).status_code == 401
    assert forms.sign_in("owner@acme.example", NEW_PASSWORD).status_code == 303
    forms.submit("/", "/logout")
    # The same link again: used.
    again = forms.client.get(link)
    assert again.status_code == 400
    assert 'data-reason="used"' in again.get_data(as_text=True)
    assert 'action="/password/forgot"' in again.get_data(as_text=True)
    replay = forms.client.post(
        link, data={"csrf_token": token, "password": "yet another one!", "password_again": "x"}
    )
    assert replay.status_code == 400
    assert forms.sign_in("owner@acme.example", NEW_PASSWORD).status_code == 303


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(
    app, forms, mails, make_organization, form_client
):
    make_organization("Acme", "owner@acme.example")
    elsewhere = form_client(app.test_client())  # the laptop left signed in
    assert elsewhere.sign_in("owner@acme.example").status_code == 303
    assert elsewhere.client.get("/account").status_code == 200
    forms.submit("/password/forgot", "/password/forgot", {"email": "owner@acme.example"})
    link = link_in(mails()[0])
    choose_new_password(forms, link)
    gone = elsewhere.client.get("/account")
    assert gone.status_code == 302 and "/login" in gone.location
    assert elsewhere.sign_in("owner@acme.example", NEW_PASSWORD).status_code == 303
    assert elsewhere.client.get("/account").status_code == 200


def test_a_reset_link_expires_after_an_hour(app, forms, mails, make_organization):
    make_organization("Acme", "owner@acme.example")
    forms.submit("/password/forgot", "/password/forgot", {"email": "owner@acme.example"})
    later(app, hours=1, seconds=1)
    refused = forms.client.get(link_in(mails()[0]))
    assert refused.status_code == 400
    assert 'data-reason="expired"' in refused.get_data(as_text=True)


def test_two_reset_links_then_one_used_retires_the_other(app, forms, mails, make_organization):
    make_organization("Acme", "owner@acme.example")
    for _ in range(2):
        forms.submit("/password/forgot", "/password/forgot", {"email": "owner@acme.example"})
    first, second = (link_in(mail) for mail in mails())
    choose_new_password(forms, second)
    assert forms.client.get(first).status_code == 400


def test_resetting_the_password_confirms_an_unconfirmed_address(app, forms, mails):
    register(forms)
    forms.submit("/password/forgot", "/password/forgot", {"email": VALID["email"]})
    link = link_in(mails()[-1])
    choose_new_password(forms, link)
    assert stored_user(app, "oksana@romashka.example").email_confirmed_at == FIXED_NOW
    assert forms.sign_in(VALID["email"], NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("password", "again", "field"),
    [("short", "short", "password"), (NEW_PASSWORD, "different!!", "password_again")],
)
def test_a_new_password_that_will_not_do_answers_422(
    app, forms, mails, make_organization, page, password, again, field
):
    make_organization("Acme", "owner@acme.example")
    forms.submit("/password/forgot", "/password/forgot", {"email": "owner@acme.example"})
    link = link_in(mails()[0])
    response = forms.client.post(
        link + "?lang=en",
        data={"csrf_token": forms.token(link), "password": password, "password_again": again},
    )
    assert response.status_code == 422
    assert page(response.get_data(as_text=True)).error_beside(field)
    assert forms.sign_in("owner@acme.example", PASSWORD).status_code == 303


def test_resetting_needs_the_csrf_token(app, forms, mails, make_organization):
    make_organization("Acme", "owner@acme.example")
    forms.submit("/password/forgot", "/password/forgot", {"email": "owner@acme.example"})
    link = link_in(mails()[0])
    forms.client.get(link)
    refused = forms.client.post(
        link, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert refused.status_code == 400
    assert forms.sign_in("owner@acme.example", PASSWORD).status_code == 303


# --- rate limits ------------------------------------------------------------------------------

LIMITED = [
    ("/confirm/resend", 5, {"email": "someone@example.com"}),
    ("/password/forgot", 5, {"email": "someone@example.com"}),
    # The first registers; the others find the address taken, and count all the same.
    ("/register", 10, VALID),
]


@pytest.mark.parametrize(("path", "allowed", "data"), LIMITED, ids=[r[0] for r in LIMITED])
def test_requests_that_send_mail_are_limited_per_address(forms, path, allowed, data):
    token = forms.token(path)
    for _ in range(allowed):
        assert forms.client.post(path, data={**data, "csrf_token": token}).status_code < 429
    refused = forms.client.post(path + "?lang=en", data={**data, "csrf_token": token})
    assert refused.status_code == 429
    assert "Too many requests from your address." in refused.get_data(as_text=True)
    other = forms.client.post(
        path, data={**data, "csrf_token": token}, environ_overrides={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert other.status_code < 429
    assert forms.client.get(path).status_code == 200  # reading the form is not limited


MISTAKES = [
    ("/confirm/resend", {"email": "someone@"}, {"email": "someone@example.com"}),
    ("/password/forgot", {"email": ""}, {"email": "someone@example.com"}),
    ("/register", {**VALID, "email": "bad"}, VALID),
]


@pytest.mark.parametrize(("path", "mistaken", "right"), MISTAKES, ids=[r[0] for r in MISTAKES])
def test_a_form_sent_back_with_a_mistake_costs_nothing_of_the_limit(forms, path, mistaken, right):
    token = forms.token(path)
    for _ in range(12):
        assert forms.client.post(path, data={**mistaken, "csrf_token": token}).status_code == 422
    assert forms.client.post(path, data={**right, "csrf_token": token}).status_code < 400
