"""Personal API tokens: created, listed and revoked by their user, and the ``Authorization:
Bearer <token>`` of an API request resolved to the user it acts as.

A token is ``spt_`` and 43 random URL-safe characters (``secrets.token_urlsafe(32)``:
256 bits). Only its SHA-256 (hex) is stored, and its first 12 characters
(``spt_`` and 8 more) to tell a user's tokens apart; the token itself is shown
once, when it is made. It acts as its user: a client's sees the user's
organization, a staff member's sees every organization. A revoked token, and
the token of an account that is deactivated (or, for a client, not yet
confirmed), is refused with a 401.

The services take the session and the time as arguments and commit; the
:func:`token_required` guard is the API views' Flask side.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from flask import g, jsonify, request
from flask_babel import gettext
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.api.documents import refusal_document
from portal.clock import now
from portal.extensions import db
from portal.models import ApiToken, User

TOKEN_PREFIX = "spt_"
# ``spt_`` and 8 characters: enough to tell tokens apart, far too few to guess the rest.
PREFIX_LENGTH = 12
NAME_LENGTH = 100
# A token's use is written down at most this often: one write a minute, not one a request.
LAST_USED_STEP = timedelta(minutes=1)


class TokenRefused(ValueError):
    """A token the portal will not make: ``code`` is ``name_missing`` or ``name_too_long``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and the token itself (kept nowhere: show it once)."""

    row: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    """The SHA-256 of ``secret``, hex: what the table keeps and looks tokens up by."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, now: datetime) -> NewToken:
    """Make a token for ``user`` named ``name`` (spaces folded, at most 100 characters)
    and commit. A TokenRefused for an empty or too long name."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenRefused("name_missing")
    if len(name) > NAME_LENGTH:
        raise TokenRefused("name_too_long")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=token_hash(secret),
        created_at=now,
    )
    session.add(row)
    session.commit()
    return NewToken(row, secret)


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """``user_id``'s tokens, the active ones first, each group newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(
                ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
            )
        )
    )


def revoke_token(session: Session, user: User, token_id: int, now: datetime) -> ApiToken | None:
    """Revoke ``user``'s token ``token_id`` and commit; a token revoked before keeps its
    time. None when ``user`` has no such token (another user's is no such token)."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = now
        session.commit()
    return row


def token_of_bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme in any case),
    or None when the header says something else or nothing."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def resolve(session: Session, secret: str, now: datetime) -> User | None:
    """The active user ``secret`` acts as, or None (unknown, revoked, the account
    deactivated or, for a client, its address not yet confirmed).

    The token's ``last_used_at`` is set to ``now`` when it was last written over a
    minute ago (or never), and committed: by one conditional update, so two requests
    at once write it once.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(secret))
    ).first()
    if found is None:
        return None
    token, user = found
    if token.revoked_at is not None or not user.active:
        return None
    if user.role == "client" and (user.email_confirmed_at is None or user.organization_id is None):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token.id,
                or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= now - LAST_USED_STEP,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return user


# --- the API views' side ----------------------------------------------------------------------


def unauthorized(invalid: bool):
    """The 401 of a request without a token (``authentication_required``) or with one the
    portal refuses (``invalid_token``), in the API's error shape and the reader's language."""
    if invalid:
        code = "invalid_token"
        message = gettext(
            "This API token does not work: it is unknown, revoked, or its account is closed."
        )
        challenge = 'Bearer realm="api", error="invalid_token"'
    else:
        code = "authentication_required"
        message = gettext("Send a personal API token: Authorization: Bearer <token>.")
        challenge = 'Bearer realm="api"'
    response = jsonify(refusal_document(code, message))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = challenge
    response.headers["Cache-Control"] = "no-store"
    return response


def token_required(view: Callable) -> Callable:
    """An API view for a token's user only, who is given to the view as ``user``.

    Only the ``Authorization`` header counts, never the session cookie: the API
    takes no CSRF token, so a signed-in browser must not be able to write through
    it. The user is also the request's ``current_user`` (its language among them).
    """

    @wraps(view)
    def guarded(*args, **kwargs):
        secret = token_of_bearer(request.headers.get("Authorization"))
        if secret is None:
            return unauthorized(invalid=False)
        user = resolve(db.session, secret, now())
        if user is None:
            return unauthorized(invalid=True)
        # Flask-Login's user of this request (no session is written): pages and
        # the language choice read it as they read a signed-in user.
        g._login_user = user
        return view(*args, user=user, **kwargs)

    return guarded
