"""Many rows at once, for the tests that count queries and for the benchmarks of the lists.

``seed(session, organizations=N)`` writes N client organizations, each with its
owner, an open call-back request, an order awaiting payment and its open
invoice, in a few bulk INSERTs; ``orders_of(session, organization_id, M)`` gives
one organization M orders more (paid ones, with their receipts). Every row is
one the portal itself could have written.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from portal.models import (
    CallbackRequest,
    Document,
    Order,
    Organization,
    SubscriptionPeriod,
    User,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LINES = json.dumps(
    [{"code": "optima", "kind": "plan", "amount": "40740.00", "label": {"en": "OPTIMA, 7 months"}}]
)
REQUEST = json.dumps({"params": {"plan": "optima", "term": "7m", "start": "2026-11-22"}})


@cache
def _password_hash() -> str:
    return generate_password_hash("correct horse battery", method="scrypt")


def _next_id(session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def seed(session, organizations: int, now: datetime = NOW, batch: int = 2000) -> list[int]:
    """Write ``organizations`` organizations with their owner, call-back request, pending
    order and open invoice; commit; their ids."""
    base = _next_id(session, Organization)
    first_document = _next_id(session, Document)
    ids: list[int] = []
    for start in range(0, organizations, batch):
        numbers = range(base + start, base + min(start + batch, organizations))
        chunk = session.scalars(
            insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
            [
                {
                    "name": f"Organization {n:06d}",
                    "tax_number": f"{38000000 + n}",
                    "address": f"Street {n}, Kyiv",
                    "language": "uk",
                    "timezone": "Europe/Kyiv",
                    "created_at": now - timedelta(minutes=n),
                }
                for n in numbers
            ],
        ).all()
        ids.extend(chunk)
        pairs = list(zip(numbers, chunk, strict=True))
        owners = session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"owner{n}@example.com",
                    "name": f"Owner {n}",
                    "password_hash": _password_hash(),
                    "role": "client",
                    "locale": "uk",
                    "created_at": now,
                    "active": True,
                    "organization_id": organization_id,
                    "org_role": "owner",
                    "email_confirmed_at": now,
                    "session_generation": 0,
                }
                for n, organization_id in pairs
            ],
        ).all()
        session.execute(
            insert(CallbackRequest),
            [
                {
                    "token": secrets.token_urlsafe(24)[:32],
                    "kind": "callback",
                    "catalog": "kbs",
                    "catalog_version": 1,
                    "plan": "optima",
                    "options": "term=7m",
                    "name": f"Caller {n}",
                    "phone": f"+38067{n:07d}",
                    "company": f"Organization {n:06d}",
                    "preferred_time": "asap",
                    "locale": "uk",
                    "created_at": now - timedelta(minutes=n),
                    "due_at": now + timedelta(minutes=15),
                    "consent": True,
                    "open_key": secrets.token_hex(32),
                }
                for n, _organization_id in pairs
            ],
        )
        orders = session.scalars(
            insert(Order).returning(Order.id, sort_by_parameter_order=True),
            [
                _order(organization_id, owner, "pending_payment", now, "bank-transfer")
                for (_n, organization_id), owner in zip(pairs, owners, strict=True)
            ],
        ).all()
        session.execute(
            insert(Document),
            [
                {
                    "kind": "invoice",
                    "number": f"INV-{first_document + start + k:06d}",
                    "order_id": order_id,
                    "organization_id": organization_id,
                    "status": "open",
                    "issued_at": now,
                    "due_on": now.date() + timedelta(days=10),
                    "total": Decimal("40740.00"),
                    "currency": "UAH",
                    "bill_to_name": f"Organization {n:06d}",
                    "bill_to_tax_number": f"{38000000 + n}",
                    "bill_to_address": f"Street {n}, Kyiv",
                }
                for k, ((n, organization_id), order_id) in enumerate(
                    zip(pairs, orders, strict=True)
                )
            ],
        )
    session.commit()
    return ids


def orders_of(session, organization_id: int, count: int, now: datetime = NOW) -> None:
    """Give an organization ``count`` more orders, fulfilled, each with its period and its
    card receipt; commit."""
    owner = session.scalar(select(User.id).where(User.organization_id == organization_id))
    rows = [_order(organization_id, owner, "fulfilled", now, "card") for _ in range(count)]
    orders = session.scalars(
        insert(Order).returning(Order.id, sort_by_parameter_order=True), rows
    ).all()
    first = _next_id(session, Document)
    session.execute(
        insert(SubscriptionPeriod),
        [
            {
                "organization_id": organization_id,
                "order_id": order_id,
                "catalog": "kbs",
                "plan": "optima",
                "term": "7m",
                "start": date(2020, 1, 1),
                "end": date(2020, 7, 31),
                "created_at": now,
            }
            for order_id in orders
        ],
    )
    session.execute(
        insert(Document),
        [
            {
                "kind": "receipt",
                "number": f"RCT-{first + n:06d}",
                "order_id": order_id,
                "organization_id": organization_id,
                "status": "paid",
                "issued_at": now,
                "paid_at": now,
                "total": Decimal("40740.00"),
                "currency": "UAH",
                "bill_to_name": "Organization",
            }
            for n, order_id in enumerate(orders)
        ],
    )
    session.commit()


def _order(organization_id: int, user_id: int, status: str, now: datetime, method: str) -> dict:
    return {
        "organization_id": organization_id,
        "placed_by_id": user_id,
        "catalog": "kbs",
        "catalog_version": 1,
        "kind": "new",
        "plan": "optima",
        "term": "7m",
        "request": REQUEST,
        "lines": LINES,
        "total": Decimal("40740.00"),
        "currency": "UAH",
        "coverage_start": date(2026, 11, 22),
        "coverage_end": date(2027, 6, 21),
        "payment_method": method,
        "status": status,
        "created_at": now,
        "checkout_key": secrets.token_hex(16),
    }


def periods_ending_soon(session, periods: int, today: date, batch: int = 5000) -> None:
    """``periods`` organizations, each with an owner and a paid period ending within 30 days."""
    for start in range(0, periods, batch):
        count = min(batch, periods - start)
        organizations = session.scalars(
            insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
            [
                {
                    "name": f"Organization {start + n}",
                    "language": ("uk", "ru", "en", "kk", "fa")[n % 5],
                    "timezone": "Europe/Kyiv",
                    "created_at": NOW,
                }
                for n in range(count)
            ],
        ).all()
        owners = session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"owner{start + n}@example.com",
                    "name": f"Owner {start + n}",
                    "password_hash": _password_hash(),
                    "role": "client",
                    "created_at": NOW,
                    "active": True,
                    "organization_id": organization,
                    "org_role": "owner",
                    "email_confirmed_at": NOW,
                    "session_generation": 0,
                }
                for n, organization in enumerate(organizations)
            ],
        ).all()
        orders = session.scalars(
            insert(Order).returning(Order.id, sort_by_parameter_order=True),
            [
                _order(organization, owner, "fulfilled", NOW, "card")
                for organization, owner in zip(organizations, owners, strict=True)
            ],
        ).all()
        session.execute(
            insert(SubscriptionPeriod),
            [
                {
                    "organization_id": organization,
                    "order_id": order,
                    "catalog": "kbs",
                    "plan": "optima",
                    "term": "7m",
                    "start": today - timedelta(days=200),
                    # Ends spread over the next 30 days: each due for its 30-, 7- or 1-day reminder.
                    "end": today + timedelta(days=(start + n) % 31),
                    "created_at": NOW,
                }
                for n, (organization, order) in enumerate(zip(organizations, orders, strict=True))
            ],
        )
        session.commit()


def give_plan(
    session,
    organization_id: int,
    plan: str,
    start: date,
    end: date,
    catalog: str = "kbs",
    term: str = "12m",
) -> None:
    """Give an organization a paid period of ``plan`` from ``start`` to ``end``; commit."""
    owner = session.scalar(select(User.id).where(User.organization_id == organization_id))
    order = {
        **_order(organization_id, owner, "fulfilled", NOW, "invoice"),
        "catalog": catalog,
        "plan": plan,
        "term": term,
        "coverage_start": start,
        "coverage_end": end,
    }
    order_id = session.scalar(insert(Order).returning(Order.id), order)
    session.execute(
        insert(SubscriptionPeriod),
        {
            "organization_id": organization_id,
            "order_id": order_id,
            "catalog": catalog,
            "plan": plan,
            "term": term,
            "start": start,
            "end": end,
            "created_at": NOW,
        },
    )
    session.commit()
