"""The client file staff read: one organization's periods, orders, documents, tickets and
visits, the latest of each, in one query per kind however long its history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Document, Order, SubscriptionPeriod, Ticket, Visit

LATEST = 10


@dataclass(frozen=True)
class ClientFile:
    periods: list[SubscriptionPeriod]
    orders: list[Order]
    documents: list[Document]
    tickets: list[Ticket]
    visits: list[Visit]
    counts: dict[str, int]


def client_file(session: Session, organization_id: int) -> ClientFile:
    """The latest ``LATEST`` of each, newest first, and how many there are of each."""

    def latest(model, *order):
        return list(
            session.scalars(
                select(model)
                .where(model.organization_id == organization_id)
                .order_by(*order)
                .limit(LATEST)
            )
        )

    counts = {}
    for name, model in (
        ("periods", SubscriptionPeriod),
        ("orders", Order),
        ("documents", Document),
        ("tickets", Ticket),
        ("visits", Visit),
    ):
        counts[name] = session.scalar(
            select(func.count(model.id)).where(model.organization_id == organization_id)
        )
    return ClientFile(
        periods=latest(
            SubscriptionPeriod, SubscriptionPeriod.end.desc(), SubscriptionPeriod.id.desc()
        ),
        orders=latest(Order, Order.created_at.desc(), Order.id.desc()),
        documents=latest(Document, Document.issued_at.desc(), Document.id.desc()),
        tickets=latest(Ticket, Ticket.opened_at.desc(), Ticket.id.desc()),
        visits=latest(Visit, Visit.created_at.desc(), Visit.id.desc()),
        counts=counts,
    )
