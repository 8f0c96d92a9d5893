"""The mail tickets write to the outbox: a reply to read, an SLA warning, a breach."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from portal import formatting
from portal.billing.presentation import portal_link
from portal.catalog.wording import speaking
from portal.extensions import db
from portal.mail.services import Mail, render_mail
from portal.models import STAFF_ROLES, Organization, Ticket, TicketMessage, TicketTarget, User
from portal.tickets.presentation import catalog_of, target_name


def _locale(user: User, organization: Organization | None) -> str:
    return user.locale or (organization.language if organization else None) or "en"


def _link(ticket: Ticket) -> str:
    return portal_link("tickets.ticket", ticket_id=ticket.id)


def _mail(name: str, user: User, locale: str, zone: str, ticket: Ticket, **context) -> Mail:
    return render_mail(
        name,
        locale,
        to=user.email,
        to_name=user.name,
        ticket=ticket,
        number=ticket.id,
        title=ticket.title,
        link=_link(ticket),
        **context,
    )


def reply_mails(ticket: Ticket, message: TicketMessage) -> list[Mail]:
    """Staff's public reply: to the client who opened the ticket (for one staff filed for
    a caller, the organization's people). A client's message: to the ticket's assignee
    (every active staff member while it has none)."""
    if message.from_staff:
        opener = ticket.opened_by
        if opener is not None and opener.active:
            readers = [opener]
        else:
            readers = _clients({ticket.organization_id}).get(ticket.organization_id, [])
        organization, zone = ticket.organization, ticket.organization.timezone
    else:
        assignee = ticket.assignee
        readers = [assignee] if assignee is not None and assignee.active else _staff()
        organization, zone = None, catalog_of(ticket).timezone
    return [
        _mail(
            "ticket_reply",
            reader,
            _locale(reader, organization),
            zone,
            ticket,
            body=message.body,
            from_staff=message.from_staff,
        )
        for reader in readers
        if reader.id != message.author_id
    ]


def _staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)
        )
    )


def alarm_mails() -> Callable[[str, list[TicketTarget]], list[Mail]]:
    """For the sweep: a warning goes to the assignee (every active staff member when the
    ticket has none); a breach to them and to the organization's active users."""
    staff = _staff()

    def mails(kind: str, targets: list[TicketTarget]) -> list[Mail]:
        out = []
        clients = _clients({t.ticket.organization_id for t in targets}) if kind == "breach" else {}
        for target in targets:
            ticket = target.ticket
            catalog = catalog_of(ticket)
            assignee = ticket.assignee
            readers = [assignee] if assignee is not None and assignee.active else staff
            for reader in readers:
                out.append(_alarm(kind, "staff", reader, None, catalog.timezone, ticket, target))
            for reader in clients.get(ticket.organization_id, ()):
                out.append(
                    _alarm(
                        kind,
                        "client",
                        reader,
                        ticket.organization,
                        ticket.organization.timezone,
                        ticket,
                        target,
                    )
                )
        return out

    return mails


def _clients(organization_ids: set[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = {}
    for user in db.session.scalars(
        select(User)
        .where(
            User.organization_id.in_(organization_ids),
            User.active.is_(True),
            User.email_confirmed_at.is_not(None),
        )
        .order_by(User.id)
    ):
        found.setdefault(user.organization_id, []).append(user)
    return found


def _alarm(kind, side, reader, organization, zone, ticket, target) -> Mail:
    locale = _locale(reader, organization)
    catalog = catalog_of(ticket)
    with speaking(locale):
        name = target_name(catalog, target.target)
        due = formatting.moment(target.due_at, locale, zone)
    template = {"warning": "ticket_warning", "breach": f"ticket_breach_{side}"}[kind]
    return _mail(
        template,
        reader,
        locale,
        zone,
        ticket,
        target=name,
        due=due,
        organization=ticket.organization.name,
    )
