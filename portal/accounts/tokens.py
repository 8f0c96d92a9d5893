"""Single-use, expiring links sent by mail: confirm an e-mail address, reset a password.

Nothing is stored per link. A token is the user's id and a *fingerprint* of the
state the link exists to change, signed with ``SECRET_KEY`` by itsdangerous'
``URLSafeTimedSerializer`` under a salt of its own per purpose (a confirmation
token is no reset token) and stamped with the time it was made:

- to confirm an address, the fingerprint covers the address and whether (and
  when) it was confirmed: once confirmed, the old link no longer matches;
- to reset a password, it covers the address and the current password hash:
  the new password has a new hash (with a new salt), so the link works once,
  and setting a new password any other way also retires every link sent before.

A link older than its purpose's ``TOKEN_MAX_AGE_SECONDS`` is expired. Ages are
read against the portal's clock, not the machine's, so tests can move time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from portal.models import User

PURPOSES = ("confirm", "reset")
_SALTS = {"confirm": "portal.accounts.confirm-email", "reset": "portal.accounts.reset-password"}


class TokenRejected(ValueError):
    """A link that does not work: ``reason`` is ``invalid`` (altered, unknown or for
    another purpose), ``expired`` or ``used``; ``user_id`` names the account when the
    signature was good, so the answer can speak the user's language."""

    def __init__(self, reason: str, user_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id


@dataclass(frozen=True)
class TokenClaim:
    """What a well-signed, unexpired token says: whose it is and the state it was made for."""

    user_id: int
    fingerprint: str


def fingerprint(user: User, purpose: str) -> str:
    """The state of ``user`` a ``purpose`` link is good for (a truncated SHA-256, hex)."""
    if purpose == "confirm":
        confirmed = user.email_confirmed_at.isoformat() if user.email_confirmed_at else "-"
        state = f"confirm|{user.id}|{user.email}|{confirmed}"
    elif purpose == "reset":
        state = f"reset|{user.id}|{user.email}|{user.password_hash}"
    else:
        raise ValueError(f"unknown purpose {purpose!r}")
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def issue(secret_key: str, purpose: str, user: User, now: datetime) -> str:
    """A url-safe token for ``purpose`` (``confirm`` or ``reset``), stamped ``now``."""
    return _serializer(secret_key, purpose, now).dumps(
        {"u": user.id, "f": fingerprint(user, purpose)}
    )


def read(secret_key: str, purpose: str, token: str, max_age: int, now: datetime) -> TokenClaim:
    """The claim of ``token`` if it is well signed for ``purpose`` and at most ``max_age``
    seconds old at ``now``; raises :class:`TokenRejected` (``invalid`` or ``expired``).

    Whether the claim still matches the account (``used``) is the caller's check,
    :func:`check`, since it needs the account.
    """
    serializer = _serializer(secret_key, purpose, now)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as error:
        claim = _claim(serializer.load_payload(error.payload) if error.payload else None)
        raise TokenRejected("expired", claim.user_id if claim else None) from None
    except BadSignature:
        raise TokenRejected("invalid") from None
    claim = _claim(payload)
    if claim is None:
        raise TokenRejected("invalid")
    return claim


def check(claim: TokenClaim, user: User | None, purpose: str) -> User:
    """``user`` if the claim is about them in their current state; else :class:`TokenRejected`:
    ``invalid`` for no (or no longer an active) account, ``used`` for a changed state."""
    if user is None or user.id != claim.user_id or not user.active:
        raise TokenRejected("invalid")
    if fingerprint(user, purpose) != claim.fingerprint:
        raise TokenRejected("used", user.id)
    return user


def _claim(payload) -> TokenClaim | None:
    if not isinstance(payload, dict):
        return None
    user_id, stamp = payload.get("u"), payload.get("f")
    if not isinstance(user_id, int) or not isinstance(stamp, str):
        return None
    return TokenClaim(user_id, stamp)


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the portal's clock instead of the machine's."""

    def __init__(self, *args, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now.timestamp())


def _serializer(secret_key: str, purpose: str, now: datetime) -> URLSafeTimedSerializer:
    if purpose not in _SALTS:
        raise ValueError(f"unknown purpose {purpose!r}")
    return URLSafeTimedSerializer(
        secret_key,
        salt=_SALTS[purpose],
        signer=_ClockSigner,
        signer_kwargs={"now": now, "digest_method": hashlib.sha256},
    )
