"""How visits read: messages, titles locked into their orders, and their mails with the
calendar file."""

from __future__ import annotations

from email.utils import parseaddr

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import formatting
from portal.billing.presentation import _mail_locale, portal_link
from portal.catalog.wording import locale_code, speaking, text
from portal.clock import now
from portal.extensions import db
from portal.mail.services import Mail, render_mail
from portal.models import Technician, User, Visit
from portal.plans import Catalog
from portal.visits.booking import VisitError, local_day
from portal.visits.ics import content_type, visit_ics
from portal.work.presentation import payers, titles

VISIT_ERRORS = {
    "invalid_block": _l("Choose one of the visit lengths offered."),
    "invalid_region": _l("Choose where the visit is."),
    "periodic_in_area": _l("Periodic visits are made in the service area only."),
    "missing_address": _l("Give the address the technician comes to."),
    "address_too_long": _l("The address is too long: at most 500 characters."),
    "missing_purpose": _l("Say what the technician is to do."),
    "purpose_too_long": _l("The text is too long: at most 4,000 characters."),
    "unknown_ticket": _l("Choose one of your tickets, or none."),
    "no_periodic": _l("Your plan includes no periodic visits."),
    "visit_not_priced": _l("The provider sets no price for this visit: call us to arrange it."),
    "price_changed": _l(
        "The price of this visit is not the one you accepted. Check the price and accept it."
    ),
    "slot_taken": _l("This time was just taken. Here are the nearest free ones."),
    "missing_time": _l("Choose a time for the visit."),
    "visit_closed": _l("This visit is closed already."),
    "too_late": _l(
        "The visit starts too soon to change it here. Tell us what to change and we arrange it."
    ),
    "planned_by_provider": _l(
        "This visit is planned by the provider. Tell us what to change and we arrange it."
    ),
    "other_year": _l("A visit moves within its contract year: choose a time before it ends."),
    "missing_change": _l("Say what to change."),
    "unknown_technician": _l("Choose one of the technicians."),
    "invalid_span": _l("The end must come after the start."),
    "not_planned": _l("This client's plan includes no planned visits."),
    "invalid_hours": _l("Give the visit's length in hours, 1 to 12."),
    "not_a_candidate": _l("Choose a staff member who is not a technician yet."),
    "invalid_days": _l("Give days such as sat, sun, mon."),
    "invalid_working_hours": _l("Give hours such as 09:00-13:00, 14:00-18:00."),
    "unknown_holidays": _l("Give a country code such as IR."),
    "unknown_zone": _l("Give a time zone such as Asia/Tehran."),
}

KIND_LABELS = {
    "booked": _l("Visit"),
    "periodic": _l("Periodic visit"),
    "asap": _l("As soon as possible"),
    "planned": _l("Planned visit"),
}
STATUS_LABELS = {
    "requested": _l("waiting for a time"),
    "booked": _l("booked"),
    "done": _l("made"),
    "cancelled": _l("cancelled"),
}
REGION_LABELS = {"out-of-town": _l("Out of town")}


def visit_error_message(error: VisitError) -> str:
    return str(VISIT_ERRORS.get(error.code, _l("This cannot be done.")))


def region_label(catalog: Catalog, region: str) -> str:
    if region == "area":
        area = catalog.visits.area
        return text(area, catalog) if area else str(_l("In the service area"))
    return str(REGION_LABELS[region])


def visit_titles(catalog: Catalog):
    """A visit's order title in every language: ``On-site visit, 4 h, 19 December 2026``."""

    def of_visit(visit: Visit) -> dict[str, str]:
        day = local_day(catalog, visit.starts_at) if visit.starts_at else None

        def make():
            if day is None:
                return _("On-site visit, %(hours)s h, as soon as possible", hours=visit.hours)
            return _(
                "On-site visit, %(hours)s h, %(day)s",
                hours=visit.hours,
                day=formatting.day(day, locale_code()),
            )

        return titles(make)

    return of_visit


# --- mails -----------------------------------------------------------------------------------

SUBJECTS = {
    "booked": _l("Visit booked: %(when)s"),
    "moved": _l("Visit moved: %(when)s"),
    "cancelled": _l("Visit cancelled: %(when)s"),
}


def visit_mails(catalog: Catalog):
    """``mail(visit, event)``: the mails of a visit booked, moved or cancelled, to the client
    who booked it (or the organization's payers) and to its technician, each with the
    visit's calendar file."""

    def mail(visit: Visit, event: str, technician_id: int | None = None) -> list[Mail]:
        if visit.starts_at is None:
            return []
        if event == "released":
            # The technician this visit no longer goes to: their entry is removed.
            released = db.session.get(Technician, technician_id)
            if released is None or not released.user.active:
                return []
            return [_mail(catalog, visit, "cancelled", released.user, for_staff=True)]
        people = _client_readers(visit)
        technician = visit.technician.user if visit.technician is not None else None
        mails = [_mail(catalog, visit, event, user, for_staff=False) for user in people]
        if technician is not None and technician.active:
            mails.append(_mail(catalog, visit, event, technician, for_staff=True))
        return mails

    return mail


def _client_readers(visit: Visit) -> list[User]:
    booked_by = db.session.get(User, visit.booked_by_id) if visit.booked_by_id else None
    if booked_by is not None and booked_by.organization_id == visit.organization_id:
        return [booked_by] if booked_by.active else []
    return payers(visit.organization_id)


def _mail(catalog: Catalog, visit: Visit, event: str, user: User, *, for_staff: bool) -> Mail:
    locale = _mail_locale(user) if not for_staff else (user.locale or catalog.locale)
    zone = catalog.timezone
    with speaking(locale):
        when = formatting.moment(visit.starts_at, locale, zone)
        until = formatting.moment(visit.ends_at, locale, zone)
        ics = calendar_file(
            catalog,
            visit,
            method="CANCEL" if event == "cancelled" else "REQUEST",
            for_staff=for_staff,
            attendee=user.email,
        )
        link = (
            portal_link("visits.staff_visit", visit_id=visit.id)
            if for_staff
            else portal_link("visits.visit_page", visit_id=visit.id)
        )
        return render_mail(
            "visit_" + event,
            locale,
            to=user.email,
            to_name=user.name,
            attachments=(("visit.ics", content_type(event == "cancelled"), ics),),
            subject_line=str(SUBJECTS[event]) % {"when": when},
            when=when,
            until=until,
            address=visit.address,
            purpose=visit.purpose,
            technician=visit.technician.user.name if visit.technician else None,
            client=visit.organization.name,
            for_staff=for_staff,
            link=link,
        )


def calendar_file(
    catalog: Catalog, visit: Visit, *, method: str, for_staff: bool, attendee: str | None = None
) -> bytes:
    """The visit's .ics in the current language: mailed (``REQUEST``, ``CANCEL``, from the
    portal's sender as organizer) or downloaded from its page (``PUBLISH``)."""
    summary = (
        _("On-site visit: %(client)s", client=visit.organization.name)
        if for_staff
        else _("On-site visit: %(provider)s", provider=text(catalog.brand, catalog))
    )
    mailed = method != "PUBLISH"
    return visit_ics(
        uid=visit.uid,
        sequence=visit.sequence,
        starts_at=visit.starts_at,
        ends_at=visit.ends_at,
        summary=summary,
        description=visit.purpose,
        location=visit.address,
        organizer=parseaddr(current_app.config["MAIL_FROM"])[1] if mailed else None,
        attendee=attendee if mailed else None,
        stamp=now(),
        method=method,
    )
