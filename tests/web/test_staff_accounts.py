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
from portal.models import AuditEntry, User
from tests.web.conftest import visible_text


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
