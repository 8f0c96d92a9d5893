"""Use cases of the provider's own people, for admins: the staff and admin accounts, a role
changed, an account deactivated (its sessions end at once) or reactivated. Each is audited
in its own transaction; an admin never demotes or deactivates themselves, and the last
active admin is never demoted or deactivated, so the portal always has one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.services import find_user, is_email, normalize_email, token_hash
from portal.audit import Actor, record
from portal.listing import matching
from portal.mail.services import Mail
from portal.models import STAFF_ROLES, Invitation, User


class StaffError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def staff_list(search: str = ""):
    """Staff and admins, admins first, then by name."""
    query = select(User).where(User.role.in_(STAFF_ROLES), User.organization_id.is_(None))
    found = matching(search, User.name, User.email)
    if found is not None:
        query = query.where(found)
    admins_first = case((User.role == "admin", 0), else_=1)
    return query.order_by(admins_first, User.active.desc(), User.name, User.id)


def _locked(session: Session, user_id: int) -> User | None:
    """The account read afresh and locked (SQLite: the write lock), so two admins changing
    accounts at once never both remove the last admin."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(User)
            .where(User.role == "admin")
            .values(role=User.role)
            .execution_options(synchronize_session=False)
        )
    else:
        # Every admin row: the count of active admins below stays true until the commit.
        session.execute(select(User.id).where(User.role == "admin").with_for_update())
    user = session.scalars(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if user is None or user.role not in STAFF_ROLES or user.organization_id is not None:
        return None
    return user


def _other_active_admins(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(User.id)).where(
            User.role == "admin", User.active.is_(True), User.id != user.id
        )
    )


def _guard(session: Session, actor: Actor, user: User, loses_admin: bool) -> None:
    if user.id == actor.user_id:
        raise StaffError("not_yourself")
    if (
        loses_admin
        and user.role == "admin"
        and user.active
        and not _other_active_admins(session, user)
    ):
        raise StaffError("last_admin")


def set_role(session: Session, user_id: int, role: str, *, actor: Actor, now: datetime) -> User:
    """Make a staff account an admin or an admin staff; commit. StaffError ``no_such_account``,
    ``unknown_role``, ``not_yourself``, ``last_admin``."""
    if role not in STAFF_ROLES:
        raise StaffError("unknown_role")
    user = _locked(session, user_id)
    try:
        if user is None:
            raise StaffError("no_such_account")
        if user.role == role:
            session.rollback()
            return user
        _guard(session, actor, user, loses_admin=role != "admin")
    except StaffError:
        session.rollback()
        raise
    before = user.role
    user.role = role
    # What the account may do changed: its open sessions sign in again.
    user.session_generation += 1
    record(
        session,
        actor,
        "user.role_changed",
        user.email,
        before={"role": before},
        after={"role": role},
        now=now,
    )
    session.commit()
    return user


def set_active(
    session: Session, user_id: int, active: bool, *, actor: Actor, now: datetime
) -> User:
    """Deactivate an account (every session of it ends at once) or reactivate it; commit.
    StaffError ``no_such_account``, ``not_yourself``, ``last_admin``."""
    user = _locked(session, user_id)
    try:
        if user is None:
            raise StaffError("no_such_account")
        if user.active == active:
            session.rollback()
            return user
        _guard(session, actor, user, loses_admin=not active)
    except StaffError:
        session.rollback()
        raise
    user.active = active
    user.session_generation += 1
    record(
        session,
        actor,
        "user.reactivated" if active else "user.deactivated",
        user.email,
        before={"active": not active},
        after={"active": active},
        now=now,
    )
    session.commit()
    return user


# --- invitations --------------------------------------------------------------------------


def invite_staff(
    session: Session,
    email: str,
    role: str,
    *,
    actor: Actor,
    now: datetime,
    max_age: int,
    mail: Callable[[Invitation, str], Mail],
    outbox,
) -> Invitation:
    """Invite ``email`` to a new staff or admin account; the link goes in the mail
    (``mail(invitation, token)``), the invitation keeps its hash; audited; commits. Inviting
    an address again replaces its earlier link. StaffError ``bad_email``, ``unknown_role``,
    ``has_account``."""
    email = normalize_email(email)
    if not is_email(email):
        raise StaffError("bad_email")
    if role not in STAFF_ROLES:
        raise StaffError("unknown_role")
    if find_user(session, email) is not None:
        raise StaffError("has_account")
    for _attempt in range(2):
        try:
            return _write(session, email, role, actor, now, max_age, mail, outbox)
        except IntegrityError:
            session.rollback()  # the same address invited at this moment: replace that link
    raise StaffError("busy")


def _write(session, email, role, actor, now, max_age, mail, outbox) -> Invitation:
    token = secrets.token_urlsafe(32)
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.organization_id.is_(None),
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
        )
    )
    before = {"role": invitation.staff_role} if invitation is not None else {}
    if invitation is None:
        invitation = Invitation(organization_id=None, email=email)
        session.add(invitation)
    invitation.invited_by_id = actor.user_id
    invitation.staff_role = role
    invitation.org_role = "member"
    invitation.token_hash = token_hash(token)
    invitation.created_at = now
    invitation.expires_at = now + timedelta(seconds=max_age)
    session.flush()
    outbox.put(session, mail(invitation, token), now)
    record(
        session,
        actor,
        "staff.invited",
        email,
        before=before,
        after={"role": role, "expires_at": invitation.expires_at.isoformat()},
        now=now,
    )
    session.commit()
    return invitation


def pending_staff_invitations(session: Session, now: datetime) -> list[Invitation]:
    """Staff invitations neither accepted nor expired, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.organization_id.is_(None),
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(100)
        )
    )


def revoke_invitation(
    session: Session, invitation_id: int, *, actor: Actor, now: datetime
) -> Invitation:
    """End an open staff invitation now (its link stops working); audited; commits.
    StaffError ``no_such_invitation``."""
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.organization_id.is_(None))
        .with_for_update()
    )
    if invitation is None or not invitation.is_open(now):
        session.rollback()
        raise StaffError("no_such_invitation")
    invitation.expires_at = now
    record(
        session,
        actor,
        "staff.invitation_revoked",
        invitation.email,
        before={"role": invitation.staff_role},
        after={"revoked": True},
        now=now,
    )
    session.commit()
    return invitation
