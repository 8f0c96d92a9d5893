"""A visit's calendar entry, as an iCalendar (.ics) file attached to its mails.

One visit is one entry: its ``UID`` never changes. A move sends the entry again
with a higher ``SEQUENCE`` (``METHOD:REQUEST``), a cancellation sends
``METHOD:CANCEL`` with ``STATUS:CANCELLED``, so calendar programs update or
remove the entry they have instead of adding another (RFC 5546).
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

PRODUCT = "-//Support portal//On-site visits//EN"
MIME_TYPE = "text/calendar"


def visit_ics(
    *,
    uid: str,
    sequence: int,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    description: str,
    location: str,
    organizer: str | None,
    attendee: str | None,
    stamp: datetime,
    method: str = "REQUEST",
) -> bytes:
    """The .ics file of one visit: ``REQUEST`` (booked or moved) or ``CANCEL``, as mailed by
    the provider (the organizer); ``PUBLISH`` for the copy downloaded from the page."""
    cancelled = method == "CANCEL"
    # In UTC: a named zone would need its VTIMEZONE, which calendar programs read unevenly.
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if organizer:
        event["organizer"] = vCalAddress(f"mailto:{organizer}")
    if attendee:
        person = vCalAddress(f"mailto:{attendee}")
        person.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", person, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def content_type(cancelled: bool) -> str:
    """The attachment's type with its method, as calendar programs look for it."""
    return f"{MIME_TYPE}; method={'CANCEL' if cancelled else 'REQUEST'}"
