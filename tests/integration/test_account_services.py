"""Use cases of client accounts against both databases: registration, links that work once,
invitations, members; and the mail they write, into an outbox passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts import services, tokens
from portal.mail.outbox import Outbox, mail_of
from portal.mail.services import compose, text_of
from portal.models import Invitation, OutboxMail, User

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SECRET = "test-secret"
PASSWORD = "correct horse battery"


OUTBOX = Outbox(sender="portal@test.example")


def registration(email="owner@acme.example", language="uk", **person) -> services.Registration:
    return services.Registration(
        organization=services.OrganizationProfile(
            name="Acme", language=language, timezone="Europe/Kyiv"
        ),
        name=person.get("name", "Olena"),
        email=email,
        password=person.get("password", PASSWORD),
    )


@pytest.fixture
def owner(session):
    user = services.register(session, registration(), NOW)
    services.confirm_email(session, user, NOW)
    return user


# --- registering ------------------------------------------------------------------------------


def test_registering_creates_the_organization_and_its_unconfirmed_owner(session):
    user = services.register(session, registration(email=" Owner@ACME.example "), NOW)
    assert (user.email, user.role, user.org_role, user.locale) == (
        "owner@acme.example",
        "client",
        "owner",
        "uk",
    )
    assert user.email_confirmed_at is None
    assert services.awaits_confirmation(user)
    assert user.organization.name == "Acme" and user.organization.created_at == NOW
    assert services.authenticate(session, "owner@acme.example", PASSWORD) == user


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"email": "nobody"}, "email"),
        ({"name": "  "}, "name"),
        ({"password": "nine char"}, "password"),
    ],
)
def test_registering_refuses_details_at_fault(session, changes, field_name):
    with pytest.raises(services.AccountError) as refused:
        services.register(session, registration(**changes), NOW)
    assert refused.value.field == field_name
    assert session.execute(select(func.count()).select_from(User)).scalar() == 0


@pytest.mark.parametrize(
    ("profile", "field_name"),
    [
        (services.OrganizationProfile(name=" ", language="uk", timezone="UTC"), "name"),
        (services.OrganizationProfile(name="A", language="de", timezone="UTC"), "language"),
        (services.OrganizationProfile(name="A", language="uk", timezone="Kyiv"), "timezone"),
    ],
)
def test_an_organization_profile_is_checked(profile, field_name):
    with pytest.raises(services.AccountError) as refused:
        profile.check()
    assert refused.value.field == field_name


def test_an_address_has_one_account_whatever_its_case(session, owner):
    with pytest.raises(services.EmailTaken):
        services.register(session, registration(email="OWNER@acme.example"), NOW)


# --- links that work once ---------------------------------------------------------------------


def test_a_confirmation_token_stops_working_once_the_address_is_confirmed(session):
    user = services.register(session, registration(), NOW)
    token = tokens.issue(SECRET, "confirm", user, NOW)
    claim = tokens.read(SECRET, "confirm", token, 3600, NOW + timedelta(minutes=5))
    assert tokens.check(claim, user, "confirm") is user
    services.confirm_email(session, user, NOW)
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(claim, user, "confirm")
    assert (rejected.value.reason, rejected.value.user_id) == ("used", user.id)


def test_a_reset_token_stops_working_once_the_password_changes(session, owner):
    token = tokens.issue(SECRET, "reset", owner, NOW)
    claim = tokens.read(SECRET, "reset", token, 3600, NOW)
    services.reset_password(session, owner, "a brand new password", NOW)
    with pytest.raises(tokens.TokenRejected, match="used"):
        tokens.check(claim, owner, "reset")
    # The same password again is a new hash (a new salt): the old link stays dead.
    services.reset_password(session, owner, PASSWORD, NOW)
    with pytest.raises(tokens.TokenRejected, match="used"):
        tokens.check(claim, owner, "reset")


def test_a_token_expires_by_the_clock_it_is_read_with(owner):
    token = tokens.issue(SECRET, "reset", owner, NOW)
    assert tokens.read(SECRET, "reset", token, 3600, NOW + timedelta(seconds=3600))
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.read(SECRET, "reset", token, 3600, NOW + timedelta(seconds=3601))
    assert (rejected.value.reason, rejected.value.user_id) == ("expired", owner.id)
    # A token from the future (a clock set back) is no better.
    with pytest.raises(tokens.TokenRejected, match="expired"):
        tokens.read(SECRET, "reset", token, 3600, NOW - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("secret", "purpose"),
    [("another-secret", "reset"), (SECRET, "confirm")],
    ids=["another key", "another purpose"],
)
def test_a_token_is_good_for_its_key_and_purpose_only(owner, secret, purpose):
    token = tokens.issue(SECRET, "reset", owner, NOW)
    with pytest.raises(tokens.TokenRejected, match="invalid"):
        tokens.read(secret, purpose, token, 3600, NOW)


def test_a_token_for_an_account_that_is_gone_or_closed_is_invalid(session, owner):
    claim = tokens.read(SECRET, "reset", tokens.issue(SECRET, "reset", owner, NOW), 60, NOW)
    with pytest.raises(tokens.TokenRejected, match="invalid"):
        tokens.check(claim, None, "reset")
    owner.active = False
    with pytest.raises(tokens.TokenRejected, match="invalid"):
        tokens.check(claim, owner, "reset")


# --- invitations and members ------------------------------------------------------------------


def test_an_invitation_stores_only_the_hash_of_its_token_and_works_once(session, owner):
    invitation, token = services.invite(session, owner, "New@Acme.example", NOW, 3600)
    assert invitation.email == "new@acme.example"
    assert invitation.token_hash == services.token_hash(token) != token
    assert invitation.expires_at == NOW + timedelta(hours=1)
    assert services.open_invitation(session, token, NOW) == invitation
    member = services.accept_invitation(
        session, invitation, name="New", password=PASSWORD, locale="kk", now=NOW
    )
    assert (member.org_role, member.organization_id, member.locale) == (
        "member",
        owner.organization_id,
        "kk",
    )
    assert member.email_confirmed_at == NOW
    assert invitation.accepted_at == NOW
    assert services.open_invitation(session, token, NOW) is None


def test_an_invitation_closes_when_it_expires(session, owner):
    _invitation, token = services.invite(session, owner, "new@acme.example", NOW, 3600)
    assert services.open_invitation(session, token, NOW + timedelta(seconds=3599))
    assert services.open_invitation(session, token, NOW + timedelta(seconds=3600)) is None
    assert (
        services.pending_invitations(session, owner.organization_id, NOW + timedelta(hours=1)) == []
    )


def test_inviting_again_replaces_the_token(session, owner):
    first, old = services.invite(session, owner, "new@acme.example", NOW, 3600)
    second, new = services.invite(session, owner, "new@acme.example", NOW, 3600)
    assert first.id == second.id
    assert services.open_invitation(session, old, NOW) is None
    assert services.open_invitation(session, new, NOW) == second
    assert session.execute(select(func.count()).select_from(Invitation)).scalar() == 1


def test_only_an_owner_invites_and_only_new_addresses(session, owner):
    invitation, _token = services.invite(session, owner, "member@acme.example", NOW, 3600)
    member = services.accept_invitation(
        session, invitation, name="M", password=PASSWORD, locale=None, now=NOW
    )
    with pytest.raises(services.AccountError, match="owner"):
        services.invite(session, member, "friend@acme.example", NOW, 3600)
    with pytest.raises(services.EmailTaken):
        services.invite(session, owner, "MEMBER@acme.example", NOW, 3600)


def test_the_owner_removes_members_only_of_their_own_organization(session, owner):
    invitation, _token = services.invite(session, owner, "member@acme.example", NOW, 3600)
    member = services.accept_invitation(
        session, invitation, name="M", password=PASSWORD, locale=None, now=NOW
    )
    other = services.register(session, registration(email="owner@globex.example"), NOW)
    with pytest.raises(services.AccountError):
        services.remove_member(session, owner, owner.id)
    assert services.remove_member(session, other, member.id) is None
    assert services.remove_member(session, member, owner.id) is None
    assert services.remove_member(session, owner, member.id) == member
    assert session.get(User, member.id) is None
    assert [user.email for user in services.members(session, owner.organization_id)] == [
        "owner@acme.example"
    ]


# --- mail -------------------------------------------------------------------------------------


def test_mail_is_written_in_the_users_language_else_the_organizations_else_the_fallback(
    app, session, owner
):
    assert services.mail_locale(owner, "en") == "uk"
    owner.locale = None
    owner.organization.language = "fa"
    assert services.mail_locale(owner, "en") == "fa"
    staff = User(email="s@x.example", name="S", password_hash="x", role="staff", created_at=NOW)
    assert services.mail_locale(staff, "ru") == "ru"


def confirmation(user):
    return services.confirmation_mail(
        user, link="https://portal.example/confirm/t", max_age=172800, fallback_locale="en"
    )


def outbox_mails(session) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_registering_writes_the_confirmation_into_the_outbox_with_the_account(app, session):
    user = services.register(session, registration(language="ru"), NOW, confirmation, OUTBOX)
    (mail,) = outbox_mails(session)
    assert (mail.to_address, mail.to_name, mail.language) == (user.email, "Olena", "ru")
    assert mail.template == "confirm_email"
    message = compose(mail_of(mail), mail.sender, mail.created_at, mail.message_id)
    assert message["From"] == "portal@test.example"
    assert message["To"].addresses[0].addr_spec == "owner@acme.example"
    assert message["Content-Language"] == "ru"
    assert message["Date"].datetime == NOW
    assert message["Message-ID"] == mail.message_id
    assert message["Message-ID"].endswith("@test.example>")
    assert "https://portal.example/confirm/t" in text_of(message)
    assert "2 дня" in text_of(message)


def test_a_registration_refused_writes_no_mail(app, session):
    services.register(session, registration(), NOW, confirmation, OUTBOX)
    with pytest.raises(services.EmailTaken):
        services.register(session, registration(name="Other"), NOW, confirmation, OUTBOX)
    assert len(outbox_mails(session)) == 1


def test_the_invitation_mail_is_in_the_organizations_language(app, session, owner):
    owner.organization.language = "fa"

    def mail(invitation, token):
        return services.invitation_mail(invitation, link=f"https://p/{token}", max_age=3600)

    _invitation, token = services.invite(
        session, owner, "new@acme.example", NOW, 3600, mail, OUTBOX
    )
    (written,) = outbox_mails(session)
    assert written.language == "fa"
    assert written.to_address == "new@acme.example"
    assert "Olena" in written.subject and "Acme" in written.subject
    assert "۱ ساعت" in written.text  # Persian digits
    assert f"https://p/{token}" in written.text
