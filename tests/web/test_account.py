"""The account page: the organization's profile, its people, invitations; who may see what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import PASSWORD, link_in
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invitation, Organization, User

FIXED_NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # the tests' clock
PROFILE = {
    "name": "ТОВ Ромашка",
    "tax_number": "12345678",
    "address": "вул. Хрещатик, 1\nКиїв, 01001",
    "language": "ru",
    "timezone": "Europe/Kyiv",
}


def organization(app, organization_id: int) -> Organization:
    with app.app_context():
        found = db.session.get(Organization, organization_id)
        db.session.expunge(found)
        return found


def user_ids(app) -> set[int]:
    with app.app_context():
        return set(db.session.execute(select(User.id)).scalars())


def later(app, **delta) -> None:
    app.config["CLOCK"] = lambda: FIXED_NOW + timedelta(**delta)


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme", "owner@acme.example", members=["member@acme.example"])


@pytest.fixture
def globex(make_organization):
    return make_organization("Globex", "owner@globex.example", members=["member@globex.example"])


# --- the profile ------------------------------------------------------------------------------


def test_the_owner_sees_the_profile_as_a_form_and_the_people(forms, acme, page):
    forms.sign_in(acme.owner.email)
    response = forms.client.get("/account?lang=en")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    form = page(html)
    assert form.value("name") == "Acme"
    assert form.value("language") == "uk"
    assert form.value("timezone") == "Europe/Kyiv"
    assert form.inputs["address"]["tag"] == "textarea"
    assert 'action="/account/organization"' in html
    assert "member@acme.example" in page(html).text("members")
    assert f'action="/account/members/{acme.members[0].id}/remove"' in html
    assert f'action="/account/members/{acme.owner.id}/remove"' not in html
    assert 'action="/account/invitations"' in html


def test_the_owner_changes_the_profile(app, forms, acme, page):
    forms.sign_in(acme.owner.email)
    # In English: the notice is phrased in the language of the request that saved.
    response = forms.submit("/account", "/account/organization?lang=en", PROFILE)
    assert response.status_code == 303
    assert response.location == "/account"
    saved = organization(app, acme.id)
    assert (saved.name, saved.tax_number, saved.address, saved.language, saved.timezone) == (
        "ТОВ Ромашка",
        "12345678",
        "вул. Хрещатик, 1\nКиїв, 01001",
        "ru",
        "Europe/Kyiv",
    )
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert "The organization&#39;s details are saved." in html


def test_blank_optional_details_are_stored_as_none(app, forms, acme):
    forms.sign_in(acme.owner.email)
    forms.submit("/account", "/account/organization", {**PROFILE, "tax_number": " ", "address": ""})
    saved = organization(app, acme.id)
    assert (saved.tax_number, saved.address) == (None, None)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name of your organization."),
        ({"timezone": "Europe/Atlantis"}, "timezone", "Choose a time zone from the list."),
        ({"language": "xx"}, "language", "Choose a language from the list."),
        ({"tax_number": "9" * 65}, "tax_number", "A tax number has at most 64 characters."),
    ],
)
def test_a_mistake_in_the_profile_answers_422_with_the_values_kept(
    app, forms, acme, page, changes, field, message
):
    forms.sign_in(acme.owner.email)
    response = forms.submit("/account", "/account/organization?lang=en", {**PROFILE, **changes})
    assert response.status_code == 422
    form = page(response.get_data(as_text=True))
    assert form.error_beside(field) == message
    for kept in ("name", "tax_number", "language", "timezone"):
        if kept not in changes:
            assert form.value(kept) == PROFILE[kept]
    assert organization(app, acme.id).name == "Acme"


def test_a_member_sees_the_profile_read_only_and_cannot_change_it(app, forms, acme, page):
    forms.sign_in(acme.members[0].email)
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert page(html).text("profile-name") == "Acme"
    assert 'action="/account/organization"' not in html
    assert 'action="/account/invitations"' not in html
    assert "/remove" not in html
    assert "Only the organization's owner can change these details." in html
    refused = forms.submit("/account", "/account/organization", PROFILE)
    assert refused.status_code == 403
    assert organization(app, acme.id).name == "Acme"


def test_changing_the_profile_needs_the_csrf_token(app, forms, acme):
    forms.sign_in(acme.owner.email)
    assert forms.client.post("/account/organization", data=PROFILE).status_code == 400
    assert organization(app, acme.id).name == "Acme"


# --- invitations ------------------------------------------------------------------------------


def invite(forms, email: str, **kwargs):
    return forms.submit("/account", "/account/invitations", {"email": email}, **kwargs)


def test_an_invitation_is_mailed_in_the_organizations_language_and_joins_a_member(
    app, forms, make_organization, mails, page, form_client
):
    org = make_organization("Acme", "owner@acme.example", language="kk")
    forms.sign_in(org.owner.email)
    response = invite(forms, "New.Person@Acme.example")
    assert response.status_code == 303
    html = forms.client.get("/account").get_data(as_text=True)
    assert "Шақыру new.person@acme.example мекенжайына жіберілуде." in html
    assert "new.person@acme.example" in page(html).text("invitations")

    (mail,) = mails()
    assert mail["To"].addresses[0].addr_spec == "new.person@acme.example"
    assert mail["Content-Language"] == "kk"
    assert "Owner of Acme" in mail["Subject"] and "Acme" in mail["Subject"]
    assert "2 күн" in mail.get_content()
    link = link_in(mail)
    assert link.startswith("/invitations/")
    with app.app_context():
        stored = db.session.execute(select(Invitation)).scalar_one()
        token = link.removeprefix("/invitations/")
        assert token not in stored.token_hash and len(stored.token_hash) == 64

    invitee = form_client(app.test_client())
    shown = invitee.client.get(link + "?lang=en")
    assert shown.status_code == 200
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert "You will sign in with new.person@acme.example." in shown.get_data(as_text=True)
    joined = invitee.client.post(
        link,
        data={
            "csrf_token": invitee.token(link),
            "name": "New Person",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert joined.status_code == 303
    assert joined.location == "/account"
    account = invitee.client.get("/account?lang=en").get_data(as_text=True)
    assert "Welcome to Acme." in account
    assert 'action="/account/organization"' not in account  # a member reads
    with app.app_context():
        member = db.session.execute(
            select(User).where(User.email == "new.person@acme.example")
        ).scalar_one()
        assert (member.organization_id, member.org_role, member.role) == (
            org.id,
            "member",
            "client",
        )
        assert member.email_confirmed_at == FIXED_NOW
        assert member.password_hash.startswith("scrypt:")
    # The link worked once.
    assert invitee.client.get(link).status_code == 400
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert "New Person" in page(html).text("members")
    assert "invitations" not in page(html).elements


def test_an_invitation_expires_after_two_days(app, forms, acme, mails):
    forms.sign_in(acme.owner.email)
    invite(forms, "late@acme.example")
    later(app, days=2, seconds=1)
    refused = forms.client.get(link_in(mails()[0]) + "?lang=en")
    assert refused.status_code == 400
    assert "This invitation does not work" in refused.get_data(as_text=True)


def test_inviting_an_address_again_replaces_the_first_link(app, forms, acme, mails, form_client):
    forms.sign_in(acme.owner.email)
    invite(forms, "twice@acme.example")
    invite(forms, "twice@acme.example")
    first, second = (link_in(mail) for mail in mails())
    assert first != second
    invitee = form_client(app.test_client())
    assert invitee.client.get(first).status_code == 400
    assert invitee.client.get(second).status_code == 200
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Invitation)).scalar() == 2


def test_an_address_with_an_account_cannot_be_invited(app, forms, acme, globex, mails, page):
    forms.sign_in(acme.owner.email)
    for email in (globex.owner.email, acme.members[0].email.upper()):
        response = invite(forms, email, query_string={"lang": "en"})
        assert response.status_code == 422
        assert (
            page(response.get_data(as_text=True))
            .error_beside("email")
            .startswith("This address already has an account in the portal.")
        )
    assert mails() == []


def test_an_invitation_needs_an_address(forms, acme, page, mails):
    forms.sign_in(acme.owner.email)
    response = invite(forms, "not an address", query_string={"lang": "en"})
    assert response.status_code == 422
    assert page(response.get_data(as_text=True)).value("email") == "not an address"
    assert mails() == []
    empty = invite(forms, "", query_string={"lang": "en"})
    assert (
        page(empty.get_data(as_text=True))
        .error_beside("email")
        .startswith("Enter your colleague's e-mail address.")
    )


def test_mistyped_invitations_cost_nothing_of_the_thirty_an_hour(forms, acme, mails):
    forms.sign_in(acme.owner.email)
    token = forms.token("/account")
    for _ in range(31):
        mistyped = forms.client.post(
            "/account/invitations", data={"email": "colleague@", "csrf_token": token}
        )
        assert mistyped.status_code == 422
    assert invite(forms, "colleague@acme.example").status_code == 303


def test_a_member_cannot_invite(forms, acme, mails):
    forms.sign_in(acme.members[0].email)
    assert invite(forms, "friend@acme.example").status_code == 403
    assert mails() == []


def test_an_address_that_got_an_account_meanwhile_cannot_accept(
    app, forms, acme, mails, form_client, make_organization, page
):
    forms.sign_in(acme.owner.email)
    invite(forms, "busy@example.com")
    make_organization("Busy", "busy@example.com")
    link = link_in(mails()[0])
    invitee = form_client(app.test_client())
    response = invitee.client.post(
        link + "?lang=en",
        data={
            "csrf_token": invitee.token(link),
            "name": "Busy",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert response.status_code == 409
    assert (
        page(response.get_data(as_text=True))
        .text("invitation-error")
        .startswith("This e-mail address already has an account.")
    )


def test_accepting_with_a_short_password_answers_422_and_keeps_the_name(
    app, forms, acme, mails, form_client, page
):
    forms.sign_in(acme.owner.email)
    invite(forms, "new@acme.example")
    link = link_in(mails()[0])
    invitee = form_client(app.test_client())
    response = invitee.client.post(
        link + "?lang=en",
        data={
            "csrf_token": invitee.token(link),
            "name": "New",
            "password": "short",
            "password_again": "short",
        },
    )
    assert response.status_code == 422
    form = page(response.get_data(as_text=True))
    assert form.value("name") == "New"
    assert "at least 10 characters" in form.error_beside("password")
    assert not form.value("password")
    assert invitee.client.get(link).status_code == 200  # still open


def test_an_unknown_invitation_is_a_400(client):
    assert client.get("/invitations/nothing-like-a-token").status_code == 400


# --- removing a member ------------------------------------------------------------------------


def test_the_invitation_page_speaks_the_language_the_mail_was_written_in(
    app, forms, make_organization, mails, form_client
):
    org = make_organization("Acme", "owner@acme.example", language="kk")
    forms.sign_in(org.owner.email)
    invite(forms, "new.person@acme.example")
    link = link_in(mails()[0])
    invitee = form_client(app.test_client())
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    shown = invitee.client.get(link, headers=english_browser).get_data(as_text=True)
    assert '<html lang="kk"' in shown
    invitee.client.post(
        link,
        headers=english_browser,
        data={
            "csrf_token": invitee.token(link),
            "name": "Жаңа Қызметкер",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    account = invitee.client.get("/account", headers=english_browser).get_data(as_text=True)
    assert '<html lang="kk"' in account  # the member's own language is the organization's now


def test_the_owner_removes_a_member_whose_session_ends(app, forms, acme, form_client, page):
    member = form_client(app.test_client())
    assert member.sign_in(acme.members[0].email).status_code == 303
    forms.client.set_cookie("lang", "en")
    forms.sign_in(acme.owner.email)
    response = forms.submit("/account", f"/account/members/{acme.members[0].id}/remove")
    assert response.status_code == 303
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert "member@acme.example" not in page(html).text("members")
    assert "no longer belongs to the organization" in html
    assert acme.members[0].id not in user_ids(app)
    assert member.client.get("/account").status_code == 302  # signed out
    assert member.sign_in(acme.members[0].email).status_code == 401


def test_the_owner_cannot_remove_themselves(app, forms, acme):
    forms.sign_in(acme.owner.email)
    refused = forms.submit("/account", f"/account/members/{acme.owner.id}/remove?lang=en")
    assert refused.status_code == 400
    assert "you cannot remove yourself" in refused.get_data(as_text=True)
    assert acme.owner.id in user_ids(app)


def test_a_member_cannot_remove_anyone(app, make_organization, forms):
    org = make_organization("Acme", "o@acme.example", members=["a@acme.example", "b@acme.example"])
    forms.sign_in(org.members[0].email)
    for target in (org.members[1], org.owner, org.members[0]):
        assert forms.submit("/account", f"/account/members/{target.id}/remove").status_code == 403
    assert user_ids(app) >= {org.owner.id, org.members[0].id, org.members[1].id}


def test_removing_needs_the_csrf_token(app, forms, acme):
    forms.sign_in(acme.owner.email)
    assert forms.client.post(f"/account/members/{acme.members[0].id}/remove").status_code == 400
    assert acme.members[0].id in user_ids(app)


# --- who may see what -------------------------------------------------------------------------


def matrix(acme):
    """Every route of the slice that shows or changes an organization, or staff data."""
    return [
        ("GET", "/account", None),
        ("POST", "/account/organization", PROFILE),
        ("POST", "/account/invitations", {"email": "intruder@example.com"}),
        ("POST", f"/account/members/{acme.members[0].id}/remove", {}),
        ("POST", f"/account/members/{acme.owner.id}/remove", {}),
        ("GET", "/staff/organizations", None),
        ("GET", f"/staff/organizations/{acme.id}", None),
        ("GET", "/staff/outbox", None),
    ]


ACME_DATA = ("Acme", "owner@acme.example", "member@acme.example", "Owner of Acme")


def assert_acme_unchanged(app, acme) -> None:
    assert organization(app, acme.id).name == "Acme"
    assert {acme.owner.id, acme.members[0].id} <= user_ids(app)
    with app.app_context():
        invitations = select(func.count()).where(Invitation.organization_id == acme.id)
        assert db.session.execute(invitations).scalar() == 1


def send(forms, method: str, path: str, data):
    if method == "GET":
        return forms.client.get(path)
    return forms.submit("/", path, data)  # with a valid CSRF token: only the rule stops it


def test_anonymous_requests_are_sent_to_sign_in_and_see_nothing(app, forms, acme):
    for method, path, data in matrix(acme):
        response = send(forms, method, path, data)
        assert response.status_code == 302, (method, path)
        assert response.location.startswith("/login?next="), (method, path)
        body = response.get_data(as_text=True)
        assert not any(datum in body for datum in ACME_DATA), (method, path)
    assert_acme_unchanged(app, acme)


@pytest.mark.parametrize("who", ["owner", "member"])
def test_another_organizations_users_get_404_or_their_own_data_never_acmes(
    app, forms, acme, globex, who
):
    forms.sign_in(globex.owner.email if who == "owner" else globex.members[0].email)
    for method, path, data in matrix(acme):
        response = send(forms, method, path, data)
        body = response.get_data(as_text=True)
        assert not any(datum in body for datum in ACME_DATA), (method, path)
        if path == "/account":
            assert response.status_code == 200 and "Globex" in body  # their own
        elif path == "/account/organization":
            # Their own organization, if at all: the address names none.
            assert response.status_code in (303, 403), path
        elif path == "/account/invitations":
            assert response.status_code in (303, 403), path
        else:
            expected = {404} if who == "owner" else {403, 404}
            assert response.status_code in expected, (method, path, response.status_code)
    assert_acme_unchanged(app, acme)
    if who == "owner":
        assert organization(app, globex.id).name == PROFILE["name"]  # they changed their own


def test_staff_see_organizations_read_only_but_no_account_page(
    app, forms, staff, acme, globex, page
):
    listing = forms.client.get("/staff/organizations?lang=en")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Globex" in html
    assert f'href="/staff/organizations/{acme.id}"' in html
    assert "owner@acme.example" in html
    one = forms.client.get(f"/staff/organizations/{acme.id}?lang=en")
    assert one.status_code == 200
    body = one.get_data(as_text=True)
    assert page(body).text("profile-name") == "Acme"
    assert "member@acme.example" in page(body).text("members")
    assert "/remove" not in body and 'action="/account/organization"' not in body
    assert forms.client.get("/staff/organizations/999999").status_code == 404
    assert forms.client.get("/account").status_code == 404  # staff have no organization
    assert forms.submit("/", "/account/organization", PROFILE).status_code == 404


def test_an_htmx_request_signed_out_is_sent_to_sign_in_with_hx_redirect(client):
    response = client.get("/account", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login?next=")


# --- roles ---------------------------------------------------------------------------------


def test_the_owner_makes_a_member_a_billing_member_and_back(app, forms, acme, page):
    member = acme.members[0]
    forms.sign_in(acme.owner.email)
    english = {"query_string": {"lang": "en"}}
    path = f"/account/members/{member.id}/role"
    made = forms.submit("/account", path, {"role": "billing"}, **english)
    assert made.status_code == 303
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert f'data-member="{member.id}" data-role="billing"' in html
    assert f"Member {member.email} can now order, pay and cancel orders." in html
    forms.submit("/account", path, {"role": "member"}, **english)
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    assert f'data-member="{member.id}" data-role="member"' in html
    assert f"Member {member.email} no longer orders or pays" in html


@pytest.mark.parametrize(
    ("role", "status"),
    [
        pytest.param("owner", 400, id="nobody is made a second owner"),
        pytest.param("admin", 400, id="nor anything else"),
    ],
)
def test_only_member_and_billing_are_roles_an_owner_gives(forms, acme, role, status):
    forms.sign_in(acme.owner.email)
    member = acme.members[0]
    answer = forms.submit("/account", f"/account/members/{member.id}/role", {"role": role})
    assert answer.status_code == status


def test_a_member_cannot_change_roles(form_client, app, acme):
    member = form_client(app.test_client())
    member.sign_in(acme.members[0].email, PASSWORD)
    owner_id = acme.owner.id
    answer = member.submit("/account", f"/account/members/{owner_id}/role", {"role": "member"})
    assert answer.status_code == 403


def test_the_role_of_another_organizations_member_is_not_the_owners_to_change(
    forms, acme, make_organization
):
    other = make_organization("Globex", "owner@globex.example", members=["m@globex.example"])
    forms.sign_in(acme.owner.email)
    answer = forms.submit(
        "/account", f"/account/members/{other.members[0].id}/role", {"role": "billing"}
    )
    assert answer.status_code == 404


def test_a_colleague_invited_as_billing_joins_as_billing(app, forms, acme, mails, form_client):
    forms.sign_in(acme.owner.email)
    forms.submit(
        "/account", "/account/invitations", {"email": "bills@acme.example", "role": "billing"}
    )
    link = link_in(mails()[-1])
    newcomer = form_client(app.test_client())
    joined = newcomer.submit(
        link, link, {"name": "Bill", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert joined.status_code == 303
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "bills@acme.example")).one()
        assert user.org_role == "billing" and user.pays


def test_a_colleague_with_an_address_outside_ascii_is_invited(forms, acme, mails):
    forms.sign_in(acme.owner.email)
    answer = forms.submit("/account", "/account/invitations", {"email": "Ольга@Acme.example"})
    assert answer.status_code == 303
    assert mails()[-1]["To"].addresses[0].addr_spec == "ольга@acme.example"


def test_two_invitations_of_one_address_at_once_leave_one_that_works(app, acme):
    import threading

    from portal.accounts import services as accounts

    start = threading.Barrier(2)
    tokens = []

    def invite() -> None:
        with app.app_context():
            owner = db.session.get(User, acme.owner.id)
            start.wait()
            _invitation, token = accounts.invite(
                db.session, owner, "twice@acme.example", FIXED_NOW, 3600
            )
            tokens.append(token)

    threads = [threading.Thread(target=invite) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(tokens) == 2
    with app.app_context():
        (invitation,) = db.session.scalars(
            select(Invitation).where(Invitation.email == "twice@acme.example")
        ).all()
        assert invitation.token_hash in {accounts.token_hash(t) for t in tokens}
