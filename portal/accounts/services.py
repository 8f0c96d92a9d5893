"""Use cases around accounts: staff accounts, client organizations and their users.

Each function that changes something receives the session (and the outbox and
the time where it needs them) and commits once; mail is written to the outbox
in the same transaction, so a rolled-back change mails nothing and a committed
one is delivered by the mail job, however slow the mail server is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from babel.dates import format_timedelta
from sqlalchemy import func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from portal import formatting
from portal.audit import Actor, record
from portal.i18n import LOCALES
from portal.listing import matching
from portal.mail.outbox import Outbox
from portal.mail.services import Mail, render_mail
from portal.models import ORG_ROLES, ROLES, Invitation, Organization, User

MIN_PASSWORD_LENGTH = 8
# Clients choose their own passwords on the web: longer than the staff's minimum.
CLIENT_MIN_PASSWORD_LENGTH = 10
PASSWORD_METHOD = "scrypt"
# What an owner makes of the others: members, or billing members who order and pay.
MEMBER_ROLES = tuple(role for role in ORG_ROLES if role != "owner")
# Something@something.something, no spaces: the rest is the mail server's to judge.
_EMAIL = re.compile(r"\A[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")


class AccountError(ValueError):
    """A user's details cannot be accepted; ``field`` names the detail at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalize_email(email: str) -> str:
    """The form an address is stored and looked up in: trimmed, lower-case."""
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: str,
    now: datetime,
    actor: Actor | None = None,
) -> User:
    """Create an active account and commit it; ``actor``: who made it, for the audit log.

    Raises :class:`AccountError` for an address without ``@``, an empty name, a
    password shorter than ``MIN_PASSWORD_LENGTH``, an unknown role or an address
    already taken.
    """
    email = normalize_email(email)
    name = name.strip()
    if "@" not in email.strip("@"):
        raise AccountError("email", f"{email!r} is not an e-mail address")
    if not name:
        raise AccountError("name", "a name is required")
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password", f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    if find_user(session, email) is not None:
        raise AccountError("email", f"{email} already has an account")
    user = User(
        email=email,
        name=name,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        role=role,
        created_at=now,
        active=True,
        # Made by the operator, who vouches for the address.
        email_confirmed_at=now,
    )
    session.add(user)
    if actor is not None:
        record(session, actor, "user.created", email, before={}, after={"role": role}, now=now)
    try:
        session.commit()
    except IntegrityError:
        # Created by someone else between the check and the commit.
        session.rollback()
        raise AccountError("email", f"{email} already has an account") from None
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None.

    An unknown address costs the same hashing time as a wrong password, so the
    answer's timing does not tell which addresses have accounts.
    """
    user = find_user(session, email)
    if user is None:
        check_password_hash(_unknown_user_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def active_user(session: Session, session_id: str) -> User | None:
    """The user of a session's id (``User.get_id``); None signs the session out.

    None for an unknown or deactivated account, and for a session signed in
    before the password last changed.
    """
    user_id, _, fingerprint = (session_id or "").partition(".")
    try:
        user = session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or fingerprint != user.session_fingerprint:
        return None
    return user


def sign_out_everywhere(session: Session, user: User) -> None:
    """End every session of ``user``, this one and any copy of its cookie, and commit."""
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.email)).scalars())


@cache
def _unknown_user_hash() -> str:
    return generate_password_hash("no account has this password", method=PASSWORD_METHOD)


# --- client organizations --------------------------------------------------------------------


class EmailTaken(AccountError):
    """The address already has an account (said the same whether it is confirmed or not)."""

    def __init__(self, email: str) -> None:
        super().__init__("email", f"{email} already has an account")


def is_email(address: str) -> bool:
    """Whether ``address`` looks like an e-mail address (``a@b.c``, at most 254 characters)."""
    return len(address) <= 254 and _EMAIL.match(address) is not None


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone zoneinfo knows (``Europe/Kyiv``)."""
    return name in _zones()


@dataclass(frozen=True)
class OrganizationProfile:
    """What an organization says about itself: legal details for invoices, language, time zone."""

    name: str
    language: str
    timezone: str
    tax_number: str | None = None
    address: str | None = None

    def check(self) -> None:
        """Raises :class:`AccountError` naming the first detail at fault."""
        if not self.name.strip():
            raise AccountError("name", "an organization needs a name")
        if self.language not in LOCALES:
            raise AccountError("language", f"language must be one of {', '.join(LOCALES)}")
        if not is_timezone(self.timezone):
            raise AccountError("timezone", f"{self.timezone!r} is not an IANA time zone")


@dataclass(frozen=True)
class Registration:
    """A new client: their organization, and themselves as its owner."""

    organization: OrganizationProfile
    name: str
    email: str
    password: str


def _check_person(name: str, email: str, password: str) -> None:
    if not is_email(email):
        raise AccountError("email", f"{email!r} is not an e-mail address")
    if not name.strip():
        raise AccountError("name", "a name is required")
    if len(password) < CLIENT_MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password", f"the password must have at least {CLIENT_MIN_PASSWORD_LENGTH} characters"
        )


def _hash(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def _commit_new_account(session: Session, email: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        # Another request took the address between the check and the commit.
        session.rollback()
        raise EmailTaken(email) from None


def register(
    session: Session,
    registration: Registration,
    now: datetime,
    confirmation: Callable[[User], Mail] | None = None,
    outbox: Outbox | None = None,
) -> User:
    """Create the organization and its owner, unconfirmed, and commit.

    The owner signs in once they follow the confirmation link: ``confirmation``
    writes its mail, which goes into ``outbox`` with the account, in one
    transaction. Raises :class:`EmailTaken` for an address that has an account
    (confirmed or not), :class:`AccountError` for any other detail at fault.
    """
    email = normalize_email(registration.email)
    _check_person(registration.name, email, registration.password)
    profile = registration.organization
    profile.check()
    if find_user(session, email) is not None:
        raise EmailTaken(email)
    organization = Organization(
        name=profile.name.strip(),
        tax_number=profile.tax_number,
        address=profile.address,
        language=profile.language,
        timezone=profile.timezone,
        created_at=now,
    )
    owner = User(
        email=email,
        name=registration.name.strip(),
        password_hash=_hash(registration.password),
        role="client",
        locale=profile.language,
        created_at=now,
        active=True,
        organization=organization,
        org_role="owner",
        email_confirmed_at=None,
    )
    session.add_all([organization, owner])
    if confirmation is not None and outbox is not None:
        try:
            session.flush()  # the link names the account's id
        except IntegrityError:
            session.rollback()
            raise EmailTaken(email) from None
        outbox.put(session, confirmation(owner), now)
    _commit_new_account(session, email)
    return owner


def awaits_confirmation(user: User) -> bool:
    """A client who registered and has not yet followed the confirmation link."""
    return user.role == "client" and user.email_confirmed_at is None


def unconfirmed_user(session: Session, email: str) -> User | None:
    """The active client account of ``email`` still awaiting confirmation, else None."""
    user = find_user(session, email)
    if user is None or not user.active or not awaits_confirmation(user):
        return None
    return user


def active_user_by_email(session: Session, email: str) -> User | None:
    user = find_user(session, email)
    return user if user is not None and user.active else None


def confirm_email(session: Session, user: User, now: datetime) -> None:
    """Mark the address of ``user`` confirmed at ``now`` (once) and commit."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
        session.commit()


def reset_password(session: Session, user: User, password: str, now: datetime) -> None:
    """Give ``user`` a new password and commit; every reset link sent before stops working.

    The link came by mail to the account's address, so an address not yet
    confirmed is confirmed too.
    """
    if len(password) < CLIENT_MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password", f"the password must have at least {CLIENT_MIN_PASSWORD_LENGTH} characters"
        )
    user.password_hash = _hash(password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    session.commit()


def mail_locale(user: User, fallback: str) -> str:
    """The language to write to ``user`` in: theirs, their organization's, else ``fallback``."""
    if user.locale in LOCALES:
        return user.locale
    if user.organization is not None and user.organization.language in LOCALES:
        return user.organization.language
    return fallback


def update_organization(
    session: Session, organization: Organization, profile: OrganizationProfile
) -> None:
    """Replace the organization's profile and commit; raises :class:`AccountError`."""
    profile.check()
    organization.name = profile.name.strip()
    organization.tax_number = profile.tax_number
    organization.address = profile.address
    organization.language = profile.language
    organization.timezone = profile.timezone
    session.commit()


def members(session: Session, organization_id: int) -> list[User]:
    """The organization's active users: the owner first, then members by name."""
    return list(
        session.execute(
            select(User)
            .where(User.organization_id == organization_id, User.active.is_(True))
            .order_by((User.org_role == "owner").desc(), func.lower(User.name), User.id)
        ).scalars()
    )


def organization_list(search: str = ""):
    """Client organizations for staff, newest first, with their people loaded in one more
    query: those whose name, tax number or a person's e-mail holds every word of ``search``."""

    def named_or_reached_by(word: str):
        # A union of two index searches (trigram indexes on PostgreSQL), rather than an OR
        # over a join that reads every organization.
        return Organization.id.in_(
            union(
                select(Organization.id).where(
                    matching(word, Organization.name, Organization.tax_number)
                ),
                select(User.organization_id).where(matching(word, User.email)),
            )
        )

    query = (
        select(Organization)
        .options(selectinload(Organization.users))
        .order_by(Organization.created_at.desc(), Organization.id.desc())
    )
    found = matching(search, named_or_reached_by)
    return query.where(found) if found is not None else query


def remove_member(session: Session, owner: User, member_id: int) -> User | None:
    """Delete the account of a member of the owner's organization and commit.

    Returns the removed user, or None when ``member_id`` is no member of the
    owner's organization (the caller answers 404). The account is deleted, not
    kept inactive, so the person can be invited again with the same address;
    their sessions end with it. Raises :class:`AccountError` for the owner themselves.
    """
    if not owner.is_owner:
        return None
    if member_id == owner.id:
        raise AccountError("member", "the owner cannot remove themselves")
    member = _member_of(session, owner, member_id)
    if member is None:
        return None
    session.delete(member)
    session.commit()
    return member


def _member_of(session: Session, owner: User, member_id: int) -> User | None:
    """User ``member_id`` if they belong to the owner's organization and are not its owner."""
    member = session.get(User, member_id)
    if (
        member is None
        or member.organization_id != owner.organization_id
        or member.org_role not in MEMBER_ROLES
    ):
        return None
    return member


def set_member_role(session: Session, owner: User, member_id: int, role: str) -> User | None:
    """The owner makes a member a billing member (orders, pays, cancels) or a plain member;
    commits. None when ``member_id`` is no member of the owner's organization; raises
    :class:`AccountError` for a role other than those two."""
    if not owner.is_owner:
        return None
    if role not in MEMBER_ROLES:
        raise AccountError("role", f"role must be one of {', '.join(MEMBER_ROLES)}")
    member = _member_of(session, owner, member_id)
    if member is None:
        return None
    member.org_role = role
    session.commit()
    return member


# --- invitations -------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """What is stored of an invitation's token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    session: Session,
    owner: User,
    email: str,
    now: datetime,
    max_age: int,
    mail: Callable[[Invitation, str], Mail] | None = None,
    outbox: Outbox | None = None,
    role: str = "member",
) -> tuple[Invitation, str]:
    """Invite ``email`` to the owner's organization; commit; return the invitation and its token.

    The token goes in the mail (``mail(invitation, token)``, put in ``outbox``
    with the invitation, which drops its text once sent); the invitation keeps only
    its hash. Inviting an
    address again replaces the earlier link, which stops working. Raises
    :class:`EmailTaken` for an address that has an account (invitations are
    for new accounts), :class:`AccountError` for no address or a non-owner.
    """
    email = normalize_email(email)
    if not owner.is_owner:
        raise AccountError("owner", "only an organization's owner invites")
    if not is_email(email):
        raise AccountError("email", f"{email!r} is not an e-mail address")
    if role not in MEMBER_ROLES:
        raise AccountError("role", f"role must be one of {', '.join(MEMBER_ROLES)}")
    if find_user(session, email) is not None:
        raise EmailTaken(email)
    for _attempt in range(2):
        try:
            return _write_invitation(session, owner, email, now, max_age, mail, outbox, role)
        except IntegrityError:
            # The same address invited at the same moment (one open invitation each, by
            # the database): the other's row now exists, and this one replaces its link.
            session.rollback()
    raise AccountError("email", f"{email} is being invited by someone else just now")


def _write_invitation(session, owner, email, now, max_age, mail, outbox, role):
    token = secrets.token_urlsafe(32)
    invitation = session.execute(
        select(Invitation).where(
            Invitation.organization_id == owner.organization_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
        )
    ).scalar_one_or_none()
    if invitation is None:
        invitation = Invitation(organization_id=owner.organization_id, email=email)
        session.add(invitation)
    invitation.invited_by = owner
    invitation.org_role = role
    invitation.token_hash = token_hash(token)
    invitation.created_at = now
    invitation.expires_at = now + timedelta(seconds=max_age)
    session.flush()
    if mail is not None and outbox is not None:
        outbox.put(session, mail(invitation, token), now)
    session.commit()
    return invitation, token


def pending_invitations(session: Session, organization_id: int, now: datetime) -> list[Invitation]:
    """Invitations of the organization neither accepted nor expired, newest first."""
    return list(
        session.execute(
            select(Invitation)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        ).scalars()
    )


def open_invitation(session: Session, token: str, now: datetime) -> Invitation | None:
    """The invitation of ``token`` if it is neither accepted nor expired at ``now``."""
    invitation = session.execute(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if invitation is None or not invitation.is_open(now):
        return None
    if invitation.staff_role is not None:
        # A staff invitation stands while whoever sent it is an active admin.
        inviter = invitation.invited_by
        if inviter is None or inviter.role != "admin" or not inviter.active:
            return None
    return invitation


def accept_invitation(
    session: Session,
    invitation: Invitation,
    *,
    name: str,
    password: str,
    locale: str | None,
    now: datetime,
) -> User:
    """Create the invitee's account in the role the invitation names, confirmed (the link
    came to their address), mark the invitation accepted, and commit both together.

    Raises :class:`EmailTaken` if the address got an account meanwhile,
    :class:`AccountError` for a name or password at fault.
    """
    _check_person(name, invitation.email, password)
    if find_user(session, invitation.email) is not None:
        raise EmailTaken(invitation.email)
    staff = invitation.staff_role is not None
    member = User(
        email=invitation.email,
        name=name.strip(),
        password_hash=_hash(password),
        role=invitation.staff_role if staff else "client",
        locale=locale if locale in LOCALES else None,
        created_at=now,
        active=True,
        organization_id=None if staff else invitation.organization_id,
        org_role=None if staff else invitation.org_role,
        email_confirmed_at=now,
    )
    invitation.accepted_at = now
    session.add(member)
    _commit_new_account(session, invitation.email)
    return member


# --- mail --------------------------------------------------------------------------------------


def duration(seconds: int, locale: str) -> str:
    """How long a link works, in words: ``2 days``, ``1 hour``, in ``locale``."""
    text = format_timedelta(timedelta(seconds=seconds), threshold=1, locale=locale)
    return formatting.digits(text, locale)


def confirmation_mail(user: User, *, link: str, max_age: int, fallback_locale: str) -> Mail:
    """The mail with the ``link`` that confirms ``user``'s address, in their language."""
    locale = mail_locale(user, fallback_locale)
    return render_mail(
        "confirm_email",
        locale,
        private=True,
        to=user.email,
        to_name=user.name,
        name=user.name,
        organization=user.organization.name if user.organization else "",
        link=link,
        duration=duration(max_age, locale),
    )


def password_reset_mail(user: User, *, link: str, max_age: int, fallback_locale: str) -> Mail:
    """The mail with the ``link`` that sets a new password, in ``user``'s language."""
    locale = mail_locale(user, fallback_locale)
    return render_mail(
        "reset_password",
        locale,
        private=True,
        to=user.email,
        to_name=user.name,
        name=user.name,
        link=link,
        duration=duration(max_age, locale),
    )


def invitation_mail(
    invitation: Invitation, *, link: str, max_age: int, provider: str = "", locale: str = "en"
) -> Mail:
    """The mail with the ``link`` to join, in the organization's language; a staff
    invitation joins the ``provider`` (its brand), in ``locale`` (the catalog's)."""
    organization = invitation.organization
    if organization is not None:
        name, locale = organization.name, organization.language
    else:
        name = provider
    return render_mail(
        "invitation",
        locale,
        private=True,
        to=invitation.email,
        organization=name,
        inviter=invitation.invited_by.name if invitation.invited_by else name,
        staff=invitation.staff_role is not None,
        link=link,
        duration=duration(max_age, locale),
    )


def send_mail(session: Session, outbox: Outbox, mail: Mail, now: datetime) -> None:
    """Put ``mail`` (a new confirmation link, a password link) in the outbox and commit."""
    outbox.put(session, mail, now)
    session.commit()
