"""Admins keep the provider's staff accounts: a role changed or an account deactivated ends
its sessions at once and is audited; nobody changes their own account, and the portal
never loses its last admin."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.admin.staff import StaffError, set_role
from portal.audit import Actor
from portal.clock import now
from portal.extensions import db
from portal.models import AuditEntry, Invitation, User
from tests.web.conftest import PASSWORD, link_in, visible_text


@pytest.fixture
def admin(app, make_user, form_client):
    account = make_user("root@example.com", role="admin", name="Root")
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    forms.account = account
    return forms


def user_of(app, email: str) -> User:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.email == email))


def audit(app) -> list[tuple[str, str, dict, dict]]:
    with app.app_context():
        return [
            (e.action, e.subject, json.loads(e.before), json.loads(e.after))
            for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_an_admin_deactivates_a_staff_member_whose_session_ends_then_reactivates_them(
    app, admin, desk
):
    agent = user_of(app, "agent@example.com")
    assert desk.client.get("/staff/tickets").status_code == 200
    done = admin.submit("/admin/staff", f"/admin/staff/{agent.id}/active", {"active": "0"})
    assert done.status_code == 303
    assert "deactivated" in visible_text(admin.client.get("/admin/staff").get_data(as_text=True))
    assert desk.client.get("/staff/tickets").status_code in (302, 303), "signed out at once"
    assert desk.sign_in("agent@example.com").status_code != 303, "and cannot sign in"
    admin.submit("/admin/staff", f"/admin/staff/{agent.id}/active", {"active": "1"})
    assert user_of(app, "agent@example.com").active
    assert [(a, s) for a, s, _b, _a in audit(app)] == [
        ("user.deactivated", "agent@example.com"),
        ("user.reactivated", "agent@example.com"),
    ]


def test_an_admin_makes_a_staff_member_an_admin_and_back(app, admin, desk):
    agent = user_of(app, "agent@example.com")
    admin.submit("/admin/staff", f"/admin/staff/{agent.id}/role", {"role": "admin"})
    assert user_of(app, "agent@example.com").role == "admin"
    assert desk.client.get("/staff/tickets").status_code in (302, 303), "signs in again"
    admin.submit("/admin/staff", f"/admin/staff/{agent.id}/role", {"role": "staff"})
    assert user_of(app, "agent@example.com").role == "staff"
    assert [(b, a) for _x, _s, b, a in audit(app)] == [
        ({"role": "staff"}, {"role": "admin"}),
        ({"role": "admin"}, {"role": "staff"}),
    ]


def test_admins_are_listed_first(app, admin, desk):
    html = admin.client.get("/admin/staff").get_data(as_text=True)
    assert html.index('data-user="root@example.com"') < html.index('data-user="agent@example.com"')


def test_nobody_changes_their_own_account(app, admin):
    me = admin.account.id
    answer = admin.submit(
        "/admin/staff", f"/admin/staff/{me}/active", {"active": "0"}, follow_redirects=True
    )
    assert "You cannot change your own account" in visible_text(answer.get_data(as_text=True))
    assert user_of(app, "root@example.com").active and audit(app) == []


def test_two_admins_demoting_each_other_leave_one_admin(app, make_user):
    first = make_user("a@example.com", role="admin")
    second = make_user("b@example.com", role="admin")
    with app.app_context():
        set_role(db.session, second.id, "staff", actor=Actor(first.id, first.email), now=now())
        with pytest.raises(StaffError) as refused:
            set_role(db.session, first.id, "staff", actor=Actor(second.id, second.email), now=now())
        assert refused.value.code == "last_admin"
    assert user_of(app, "a@example.com").role == "admin"


def test_a_client_account_or_an_unknown_one_is_no_staff_account(app, admin, make_organization):
    org = make_organization("Acme", "owner@acme.example")
    for user_id in (org.owner.id, 999999):
        answer = admin.submit("/admin/staff", f"/admin/staff/{user_id}/active", {"active": "0"})
        assert answer.status_code == 404
    bad = admin.submit("/admin/staff", f"/admin/staff/{org.owner.id}/role", {"role": "owner"})
    assert bad.status_code == 400


@pytest.mark.parametrize("path", ["/admin/staff"])
def test_only_admins_find_the_staff_accounts(app, path, desk, make_organization, form_client):
    assert app.test_client().get(path).status_code in (302, 303)
    assert desk.client.get(path).status_code == 404
    org = make_organization("Acme", "owner@acme.example")
    client = form_client(app.test_client())
    client.sign_in(org.owner.email)
    assert client.client.get(path).status_code == 404
    assert (
        desk.submit("/staff/tickets", "/admin/staff/1/active", {"active": "0"}).status_code == 404
    )


# --- invitations ----------------------------------------------------------------------------


def invite(admin, email, role="staff"):
    return admin.submit("/admin/staff", "/admin/staff/invitations", {"email": email, "role": role})


def test_an_admin_invites_a_staff_member_who_makes_their_account_from_the_mailed_link(
    app, admin, mails, form_client
):
    assert invite(admin, "New.Agent@Example.com", role="admin").status_code == 303
    listing = visible_text(admin.client.get("/admin/staff").get_data(as_text=True))
    assert "The invitation to new.agent@example.com is on its way." in listing
    assert "new.agent@example.com" in listing
    (mail,) = mails()
    assert mail["To"].addresses[0].addr_spec == "new.agent@example.com"
    assert "SOFTCOM" in mail["Subject"] and "Root" in mail["Subject"]
    link = link_in(mail)
    invitee = form_client(app.test_client())
    shown = invitee.client.get(link + "?lang=en").get_data(as_text=True)
    assert "Join the staff of SOFTCOM" in visible_text(shown)
    joined = invitee.client.post(
        link,
        data={
            "csrf_token": invitee.token(link),
            "name": "New Agent",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert joined.location == "/staff/tickets"
    assert invitee.client.get("/admin/audit").status_code == 200, "an admin, as invited"
    joined_as = user_of(app, "new.agent@example.com")
    assert (joined_as.role, joined_as.organization_id, joined_as.org_role) == ("admin", None, None)
    assert invitee.client.get(link).status_code == 400, "the link works once"
    (entry,) = [e for e in audit(app) if e[0] == "staff.invited"]
    assert entry[1] == "new.agent@example.com" and entry[3]["role"] == "admin"


@pytest.mark.parametrize(
    ("email", "status", "message"),
    [
        pytest.param("", 422, "Enter their e-mail address.", id="no address"),
        pytest.param(
            "agent-at-example", 422, "This is not an e-mail address", id="no address at all"
        ),
        pytest.param(
            "root@example.com", 409, "already has an account", id="an address with an account"
        ),
    ],
)
def test_an_invitation_that_cannot_be_sent_says_why_beside_the_address(
    app, admin, mails, email, status, message
):
    refused = invite(admin, email)
    assert refused.status_code == status
    assert message in visible_text(refused.get_data(as_text=True))
    assert mails() == []


def test_inviting_an_address_again_replaces_its_link(app, admin, mails):
    invite(admin, "agent2@example.com")
    invite(admin, "agent2@example.com", role="admin")
    first, second = mails()
    assert link_in(first) != link_in(second)
    assert admin.client.get(link_in(first)).status_code == 400
    with app.app_context():
        (invitation,) = db.session.scalars(sa.select(Invitation))
        assert invitation.staff_role == "admin"


def test_only_admins_invite_staff(app, desk):
    refused = desk.submit(
        "/staff/tickets", "/admin/staff/invitations", {"email": "x@example.com", "role": "admin"}
    )
    assert refused.status_code == 404


def test_a_withdrawn_invitation_link_no_longer_works(app, admin, mails):
    invite(admin, "agent3@example.com")
    (mail,) = mails()
    with app.app_context():
        (invitation,) = db.session.scalars(sa.select(Invitation))
    withdrawn = admin.submit("/admin/staff", f"/admin/staff/invitations/{invitation.id}/revoke")
    assert withdrawn.status_code == 303
    assert admin.client.get(link_in(mail)).status_code == 400
    again = admin.submit("/admin/staff", f"/admin/staff/invitations/{invitation.id}/revoke")
    assert "was accepted, withdrawn or has expired" in visible_text(
        admin.client.get(again.location).get_data(as_text=True)
    )
    assert [a for a, *_ in audit(app)][-1] == "staff.invitation_revoked"


def test_an_invitation_from_an_admin_no_longer_admin_no_longer_works(app, admin, make_user, mails):
    invite(admin, "agent4@example.com", role="admin")
    (mail,) = mails()
    other = make_user("other-admin@example.com", role="admin", name="Other")
    with app.app_context():
        set_role(db.session, admin_id(app), "staff", actor=Actor(other.id, other.email), now=now())
    assert admin.client.get(link_in(mail)).status_code == 400


def admin_id(app) -> int:
    return user_of(app, "root@example.com").id
