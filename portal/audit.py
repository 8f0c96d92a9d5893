"""The audit log's one way in: ``record`` adds an entry to the caller's transaction.

Use cases that change money, accounts or the catalog on an admin's or staff member's
word take an :class:`Actor` and record what they changed, before and after, before
they commit: the action and its entry stand or fall together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.models import AuditEntry

ACTIONS = (
    "invoice.paid",
    "order.refunded",
    "catalog.published",
    "catalog.draft_started",
    "catalog.draft_edited",
    "catalog.draft_imported",
    "catalog.draft_discarded",
    "user.created",
    "user.role_changed",
    "user.deactivated",
    "user.reactivated",
    "staff.invited",
    "staff.invitation_revoked",
)
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (``user_id``, ``name`` their e-mail), or the command line."""

    user_id: int | None
    name: str

    @classmethod
    def command_line(cls) -> Actor:
        return cls(None, COMMAND_LINE)


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject: str,
    *,
    before: dict,
    after: dict,
    now: datetime,
    organization_id: int | None = None,
) -> AuditEntry:
    """Add the entry of ``action`` on ``subject`` to ``session``; the caller commits."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action: {action}")
    entry = AuditEntry(
        at=now,
        actor_id=actor.user_id,
        actor=actor.name[:320],
        action=action,
        subject=subject[:200],
        organization_id=organization_id,
        before=json.dumps(before, sort_keys=True, ensure_ascii=False, default=str),
        after=json.dumps(after, sort_keys=True, ensure_ascii=False, default=str),
    )
    session.add(entry)
    return entry
