"""Documents of orders: invoices and receipts, numbered without gaps, and who may read them.

Numbers come from a counter row locked in the transaction that issues the
document (:func:`next_number`), so a rolled-back document leaves no hole and two
documents issued at once never share a number. A document copies its payer's
details when it is issued (:func:`bill_to`): it never changes when the
organization's profile does. :mod:`portal.billing.orders` (a card payment's
receipt), :mod:`portal.billing.invoices` and :mod:`portal.billing.card` build on these.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Document, DocumentSequence, Order, Organization

DOCUMENT_PREFIXES = {"invoice": "INV", "receipt": "RCT", "act": "ACT"}


def next_number(session: Session, kind: str) -> str:
    """The next number of ``kind`` (``INV-000001``), from a row locked until the commit.

    Under concurrent transactions on PostgreSQL the second waits for the first
    (``SELECT ... FOR UPDATE``); if the first rolls back, its number is taken
    again: the sequence has no gaps.
    """
    return next_numbers(session, kind, 1)[0]


def next_numbers(session: Session, kind: str, count: int) -> list[str]:
    """The next ``count`` numbers of ``kind``, taken at once (a job numbering a month's
    documents), under the same lock as :func:`next_number`."""
    if count <= 0:
        return []
    counter = locked_sequence(session, kind)
    first = counter.last_number + 1
    counter.last_number += count
    return [f"{DOCUMENT_PREFIXES[kind]}-{n:06d}" for n in range(first, first + count)]


def locked_sequence(session: Session, kind: str) -> DocumentSequence:
    """The counter row of ``kind``, created if need be and locked until the commit. A job
    that numbers many documents takes it before it reads what is left to number, so two
    runs at once number one after the other. SQLite has no row locks: a write that changes
    nothing takes its one write lock first."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(DocumentSequence)
            .where(DocumentSequence.kind == kind)
            .values(last_number=DocumentSequence.last_number)
            .execution_options(synchronize_session=False)
        )
    query = select(DocumentSequence).where(DocumentSequence.kind == kind).with_for_update()
    counter = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(DocumentSequence(kind=kind, last_number=0))
        except IntegrityError:
            pass  # another transaction created it first
        counter = session.scalars(query.execution_options(populate_existing=True)).one()
    return counter


def documents_of(session: Session, order: Order) -> list[Document]:
    """The invoice and receipt of ``order``, as they are."""
    return list(session.scalars(select(Document).where(Document.order_id == order.id)))


def bill_to(organization: Organization) -> dict:
    """The payer's details a document copies when it is issued: it never changes after."""
    return {
        "bill_to_name": organization.name,
        "bill_to_tax_number": organization.tax_number,
        "bill_to_address": organization.address,
    }


def new_invoice(
    order: Order, organization: Organization, *, number: str, issued_at: datetime, due_on: date
) -> Document:
    """The open bank-transfer invoice of ``order``, numbered ``number``, not yet added."""
    return Document(
        kind="invoice",
        number=number,
        order_id=order.id,
        organization_id=order.organization_id,
        status="open",
        issued_at=issued_at,
        due_on=due_on,
        total=order.total,
        currency=order.currency,
        **bill_to(organization),
    )


def order_documents(session: Session, order: Order) -> dict[str, Document]:
    """The documents of ``order`` by kind (``invoice``, ``receipt``)."""
    return {document.kind: document for document in documents_of(session, order)}


def organization_document(
    session: Session, organization_id: int | None, document_id: int
) -> Document | None:
    """Document ``document_id`` if it belongs to ``organization_id`` (None: any, for staff)."""
    document = session.get(Document, document_id)
    if document is None:
        return None
    if organization_id is not None and document.organization_id != organization_id:
        return None
    return document


def document_list(organization_id: int):
    """The organization's receipts, and its invoices open or paid (not the void or expired
    ones: their orders were cancelled), newest first (a query to page through)."""
    return (
        select(Document)
        .where(
            Document.organization_id == organization_id,
            or_(Document.kind == "receipt", Document.status.in_(("open", "paid"))),
        )
        .order_by(Document.issued_at.desc(), Document.id.desc())
    )
