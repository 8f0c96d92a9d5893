"""Tickets in words: statuses, categories, clocks as the pages and mails show them, and the
messages of refusals, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import formatting
from portal.catalog import services as catalogs
from portal.catalog.wording import calendar_name, digits, locale_code, sla_name, text
from portal.extensions import db
from portal.models import STAFF_ROLES, Ticket, TicketTarget, User
from portal.plans import Catalog, PlanError
from portal.plans.sla import Clock
from portal.plans.tickets import DEVELOPMENT, SUPPORT, TicketCategory, category_of
from portal.tickets import attachments
from portal.tickets.attachments import AttachmentRefused, FilePolicy
from portal.tickets.clocks import clocks
from portal.tickets.filing import TicketError

STATUS_LABELS = {
    "new": _l("New"),
    "in_progress": _l("In progress"),
    "waiting_for_client": _l("Waiting for you"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# The same statuses as staff name them.
STAFF_STATUS_LABELS = {**STATUS_LABELS, "waiting_for_client": _l("Waiting for the client")}
CLOCK_STATES = {
    "running": _l("Running"),
    "paused": _l("Paused"),
    "met": _l("Met"),
    "breached": _l("Breached"),
}
EVENT_LABELS = {
    "in_progress": _l("The ticket is in progress."),
    "waiting_for_client": _l("Waiting for the client's answer: the clocks are paused."),
    "resolved": _l("The ticket is resolved."),
    "closed": _l("The ticket is closed."),
    "auto_closed": _l("Closed: no reply came after it was resolved."),
    "assigned": _l("The ticket was assigned."),
    "defect_confirmed": _l("A defect of the product is confirmed: the fix date is due."),
    "fix_date": _l("The fix date is set."),
    "plan_changed": _l("The ticket now runs on another plan: due times are computed again."),
}
TICKET_ERRORS = {
    "title_missing": _l("Say in a few words what happened."),
    "title_too_long": _l("The title is too long: at most 200 characters."),
    "description_missing": _l("Describe the problem: what you did, what you saw."),
    "message_missing": _l("Write the message."),
    "text_too_long": _l("The text is too long: at most 20,000 characters."),
    "call_time_invalid": _l("Give the time of the call as date and time."),
    "call_in_future": _l("The call cannot be later than now."),
    "call_too_old": _l("The call is over 7 days ago: file the ticket as of now."),
    "ticket_closed": _l("This ticket is closed: report a new issue instead."),
    "status_not_allowed": _l("The ticket cannot go to that status from where it is."),
    "not_staff": _l("Only staff write internal notes."),
    "assignee_unknown": _l("Choose a staff member."),
    "no_defect_target": _l("This ticket's plan has no fix-date target for a defect."),
    "defect_not_confirmed": _l("Confirm the defect first."),
    "fix_date_past": _l("The fix date cannot be in the past."),
    "rating_invalid": _l("Choose from 1 to 5."),
    "comment_too_long": _l("The comment is too long: at most 2,000 characters."),
    "not_resolved": _l("A ticket can be rated once it is resolved."),
}
ATTACHMENT_ERRORS = {
    "too_large": _l("%(name)s is larger than %(size)s MB."),
    "wrong_type": _l(
        "%(name)s is not a file type we take (pictures, PDF, text, ZIP, Word or Excel)."
    ),
    "empty": _l("%(name)s is empty."),
    "too_many": _l("At most %(count)s files go with one message."),
}


def file_policy() -> FilePolicy:
    config = current_app.config
    from pathlib import Path

    return FilePolicy(
        folder=Path(config["TICKET_FILES_DIR"]),
        max_bytes=config["TICKET_FILE_MAX_BYTES"],
        per_message=config["TICKET_FILES_PER_MESSAGE"],
        types=tuple(config["TICKET_FILE_TYPES"]),
    )


def ticket_error_message(error: TicketError) -> str:
    return str(TICKET_ERRORS.get(error.code, error.code))


def attachment_error_message(error: AttachmentRefused) -> str:
    policy = file_policy()
    return str(ATTACHMENT_ERRORS[error.reason]) % {
        "name": error.filename,
        "size": digits(str(policy.max_bytes // 2**20)),
        "count": digits(str(policy.per_message)),
    }


def catalog_of(ticket: Ticket) -> Catalog:
    """The catalog version the ticket was filed (or last re-planned) under."""
    return catalogs.catalog_version(db.session, ticket.catalog, ticket.catalog_version)


def category_name(category: TicketCategory, catalog: Catalog) -> str:
    if category.name is not None:
        return text(category.name, catalog)
    if category.kind == SUPPORT:
        return _("A problem with the software")
    return _("Development request: a new feature or a change")


def category_label(catalog: Catalog, code: str) -> str:
    try:
        return category_name(category_of(catalog, code), catalog)
    except PlanError:
        return code


def category_help(category: TicketCategory, catalog: Catalog) -> str | None:
    """What help a category gets, said before sending and on the ticket."""
    if category.kind == DEVELOPMENT:
        own = text(category.help, catalog) if category.help else None
        return own or _(
            "Development requests are not support: they are filed as proposals for product "
            "analysis, with no response time."
        )
    if category.kind == "out-of-scope":
        helped = text(category.help, catalog) if category.help else None
        if helped:
            return _("Outside the plan's support. Help given instead: %(help)s", help=helped)
        return _("Outside the plan's support: no response time applies.")
    return None


def target_name(catalog: Catalog, code: str) -> str:
    target = catalog.sla_targets.get(code)
    return text(target.name, catalog) if target else code


def target_definition(catalog: Catalog, code: str) -> str | None:
    target = catalog.sla_targets.get(code)
    return text(target.description, catalog) if target and target.description else None


def span_words(span: timedelta) -> str:
    """``2 h 05 min``, ``45 min``, ``3 d 4 h`` (a day of elapsed time is 24 hours)."""
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return digits(_("%(days)s d %(hours)s h", days=days, hours=hours))
    if hours:
        return digits(_("%(hours)s h %(minutes)s min", hours=hours, minutes=f"{minutes:02d}"))
    return digits(_("%(minutes)s min", minutes=minutes))


@dataclass(frozen=True)
class ClockView:
    """A target's clock as a page shows it."""

    code: str
    name: str
    definition: str | None
    promise: str
    state: str
    state_label: str
    due: str
    due_iso: str
    percent: int
    used: str
    span: str
    met_at: str | None
    paused_since: str | None
    working: bool


def clock_views(catalog: Catalog, ticket: Ticket, now: datetime, zone: str) -> list[ClockView]:
    """Each target of ``ticket`` at ``now``, its times in ``zone`` (the reader's)."""
    plan = catalog.plans.get(ticket.plan) if ticket.plan else None
    locale = locale_code()
    views = []
    for target, clock in clocks(catalog, ticket, now):
        promise = plan.sla.get(target.target) if plan else None
        calendar = catalog.calendar_of(plan) if plan and promise and promise.upper.working else None
        views.append(_clock_view(catalog, target, clock, promise, calendar, locale, zone))
    return views


def _clock_view(catalog, target: TicketTarget, clock: Clock, promise, calendar, locale, zone):
    def when(value: datetime | None) -> str | None:
        return formatting.moment(value, locale, zone) if value else None

    return ClockView(
        code=target.target,
        name=target_name(catalog, target.target),
        definition=target_definition(catalog, target.target),
        promise=promise_words(promise) if promise else "",
        state=clock.state,
        state_label=str(CLOCK_STATES[clock.state]),
        due=when(clock.due),
        due_iso=clock.due.astimezone(ZoneInfo(zone)).isoformat(),
        percent=round(clock.used_share * 100),
        used=span_words(clock.used),
        span=span_words(clock.span),
        met_at=when(clock.met_at),
        paused_since=when(clock.paused_since),
        working=calendar is not None,
    )


def promise_words(promise) -> str:
    """``9 working hours`` or ``2.5 hours, round the clock``: the calendar is said once."""
    within = sla_name(promise.upper, promise.lower)
    return within if promise.upper.working else _("%(within)s, round the clock", within=within)


def any_running(views: list[ClockView]) -> bool:
    return any(view.state in ("running", "paused") for view in views)


def calendar_words(catalog: Catalog, plan_code: str | None) -> str | None:
    plan = catalog.plans.get(plan_code) if plan_code else None
    calendar = catalog.calendar_of(plan) if plan else None
    return calendar_name(calendar) if calendar else None


def is_member(user: User, ticket: Ticket) -> bool:
    """May ``user`` see ``ticket``: staff, or a user of its organization."""
    if not user.is_authenticated or not user.active:
        return False
    return user.role in STAFF_ROLES or user.organization_id == ticket.organization_id


def attachment_path(row):
    return attachments.path_of(row, file_policy())
