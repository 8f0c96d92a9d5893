"""Use case of remote connections: counted per calendar month, limited where the plan says.

A client asks for a remote connection on a ticket. The month's count is read
under the organization's lock, so two requests at once count one after the
other: PROF's third request in a month is offered as paid time, with its price,
and booked only with the client's consent; an unlimited plan counts and never
limits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import RemoteConnection
from portal.plans import Catalog
from portal.plans.worktime import connection_limit, month_of
from portal.work.worklog import WorkError, lock_organization


def connections_this_month(session: Session, organization_id: int, today: date) -> int:
    return int(
        session.scalar(
            select(func.count(RemoteConnection.id)).where(
                RemoteConnection.organization_id == organization_id,
                RemoteConnection.month == month_of(today),
            )
        )
        or 0
    )


def request_connection(
    session: Session,
    *,
    catalog: Catalog,
    organization_id: int,
    plan: str | None,
    ticket_id: int | None,
    user_id: int | None,
    agreed_to_pay: bool,
    today: date,
    now: datetime,
) -> RemoteConnection:
    """Count a remote connection for the organization this month; commit.

    Raises :class:`WorkError` ``consent_required`` when it is beyond the plan's limit
    and the client has not agreed to pay for it as specialist time.
    """
    lock_organization(session, organization_id)
    used = connections_this_month(session, organization_id, today)
    paid = connection_limit(catalog, plan).is_paid(used)
    if paid and not agreed_to_pay:
        session.rollback()
        raise WorkError("consent_required", "consent")
    connection = RemoteConnection(
        organization_id=organization_id,
        catalog=catalog.code,
        ticket_id=ticket_id,
        month=month_of(today),
        requested_by_id=user_id,
        requested_at=now,
        paid=paid,
    )
    session.add(connection)
    session.commit()
    return connection


def ticket_connections(session: Session, ticket_id: int) -> list[RemoteConnection]:
    """The connections asked for on a ticket (a handful), oldest first."""
    return list(
        session.scalars(
            select(RemoteConnection)
            .where(RemoteConnection.ticket_id == ticket_id)
            .order_by(RemoteConnection.requested_at)
            .limit(50)
        )
    )
