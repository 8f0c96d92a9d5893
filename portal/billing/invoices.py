"""Use cases of bank-transfer invoices: issued, listed for staff, marked paid, expired.

An order has at most one invoice (``documents``' order and kind are unique),
issued once however many times it is asked for, and numbered, like receipts,
by :func:`portal.billing.documents.next_number` in the invoice's own transaction.
Staff mark an invoice paid once: the order's row is locked first, as the
webhook's fulfilment locks it, so the two never both pay one order. Invoices
unpaid after their due date expire, and their orders are cancelled.

Functions that change something take the session and commit once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.audit import Actor, record
from portal.billing.documents import new_invoice, next_number, order_documents
from portal.billing.orders import (
    BillingError,
    claim_payment_method,
    fulfil,
    locked_order,
    release_visit,
)
from portal.listing import matching
from portal.mail.outbox import Outbox
from portal.mail.services import Mail
from portal.models import Document, Order, Organization


def can_be_invoiced(organization: Organization) -> bool:
    """Whether the organization has the legal details an invoice needs (tax number, address)."""
    return bool((organization.tax_number or "").strip() and (organization.address or "").strip())


def issue_invoice(
    session: Session,
    order: Order,
    *,
    today: date,
    due_days: int,
    now: datetime,
    mail: Callable[[Document], Mail] | None = None,
    outbox: Outbox | None = None,
) -> tuple[Document, bool]:
    """The bank-transfer invoice of ``order``: issued once, numbered, due in ``due_days``.

    ``mail(document)`` is its mail (with the PDF), put in ``outbox`` in the
    invoice's own transaction. Returns the invoice and whether it was issued
    now; asking again returns the same invoice and False. Raises
    :class:`BillingError` ``order_closed`` for an order no longer awaiting
    payment, ``paying_by_card`` when it is paid by card (even if that was decided
    a moment ago, in a parallel request), and ``bill_to_incomplete`` while the
    organization lacks the tax number or legal address an invoice names its payer by.
    """
    if order.status != "pending_payment":
        raise BillingError("order_closed", order)
    existing = order_documents(session, order).get("invoice")
    if existing is not None:
        return existing, False
    if not can_be_invoiced(order.organization):
        raise BillingError("bill_to_incomplete", order)
    claim_payment_method(session, order, "bank-transfer")
    document = new_invoice(
        order,
        order.organization,
        number=next_number(session, "invoice"),
        issued_at=now,
        due_on=today + timedelta(days=due_days),
    )
    session.add(document)
    try:
        session.flush()
        if mail is not None and outbox is not None:
            outbox.put(session, mail(document), now)
        session.commit()
    except IntegrityError:
        # A second click won the race: the order has its invoice, and no number was lost.
        session.rollback()
        return order_documents(session, order)["invoice"], False
    return document, True


# The staff list of invoices: awaiting a transfer (the oldest due first), or paid (newest first).
INVOICE_STATES = ("open", "paid")


def invoice_list(status: str, search: str = ""):
    """Invoices in ``status`` for staff, with who marked them paid loaded in the same query:
    those whose number, payer or payer's tax number holds every word of ``search``."""
    query = (
        select(Document)
        .where(Document.kind == "invoice", Document.status == status)
        .options(selectinload(Document.paid_by))
    )
    if status == "open":
        query = query.order_by(Document.due_on, Document.id)
    else:
        query = query.order_by(Document.paid_at.desc(), Document.id.desc())
    found = matching(search, Document.number, Document.bill_to_name, Document.bill_to_tax_number)
    return query.where(found) if found is not None else query


def mark_invoice_paid(
    session: Session,
    document_id: int,
    *,
    staff_user_id: int,
    now: datetime,
    actor: Actor | None = None,
) -> Document:
    """Staff record the bank transfer of invoice ``document_id``: the period starts.

    Marking it again changes nothing. Raises :class:`BillingError`
    ``no_such_invoice``, ``invoice_closed`` (expired or void: the order was
    cancelled, and a new order must be placed) or ``order_paid_otherwise`` (the
    order was paid by card meanwhile). The order's row is locked first, as the
    webhook's fulfilment locks it, so the two never both pay one order.
    """
    found = session.get(Document, document_id)
    if found is None or found.kind != "invoice":
        raise BillingError("no_such_invoice")
    order = locked_order(session, found.order_id)
    document = _locked_document(session, document_id)
    if document.status == "paid":
        return document
    if order.status in ("paid", "fulfilled", "refunded") or order.payment_method == "card":
        raise BillingError("order_paid_otherwise", order)
    if document.status != "open":
        raise BillingError("invoice_closed", order)
    document.status = "paid"
    document.paid_at = now
    document.paid_by_id = staff_user_id
    fulfil(session, document.order, method="bank-transfer", now=now)
    if actor is not None:
        record(
            session,
            actor,
            "invoice.paid",
            document.number,
            before={"invoice": "open", "order": "pending_payment"},
            after={"invoice": "paid", "order": order.status, "total": str(document.total)},
            now=now,
            organization_id=document.organization_id,
        )
    session.commit()
    return document


def expire_invoices(session: Session, *, today: date, now: datetime) -> list[Document]:
    """Invoices unpaid after their due date expire, and their orders are cancelled.

    Each is decided on its order's locked row, as marking it paid locks it: an invoice
    that staff mark paid at the same moment stays paid. Each is committed on its own.
    """
    overdue = session.execute(
        select(Document.id, Document.order_id).where(
            Document.kind == "invoice", Document.status == "open", Document.due_on < today
        )
    ).all()
    expired = []
    for document_id, order_id in overdue:
        order = locked_order(session, order_id)
        document = _locked_document(session, document_id)
        if document.status == "open":
            document.status = "expired"
            if order.status == "pending_payment":
                order.status = "cancelled"
                order.closed_at = now
                release_visit(session, order, now)
            expired.append(document)
        session.commit()
    return expired


def _locked_document(session: Session, document_id: int) -> Document:
    """Document ``document_id`` read afresh and locked until the commit; lock its order
    first (``locked_order``), as every use case that pays or closes one does."""
    return session.scalars(
        select(Document)
        .where(Document.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
