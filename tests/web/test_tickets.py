"""Tickets as a client files and watches them and as staff answer them, on both databases.

The Done-means walk of issue 10 first (a KBS OPTIMA client on a Friday afternoon, an
iiko contract client at night), then due times at awkward moments, the status path
and its pauses, the sweep and the closing job, files and who may see what.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.catalog.current import current_catalog
from portal.extensions import db
from portal.models import Ticket, TicketAttachment, User
from portal.tickets import filing, sweep
from portal.tickets.mails import alarm_mails
from portal.tickets.presentation import file_policy
from tests.seed import give_plan
from tests.web.conftest import visible_text

FRIDAY_KYIV = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # Friday 16:30 in Kyiv
PERIOD = (date(2026, 11, 1), date(2027, 10, 31))


def at(app, moment: datetime) -> None:
    app.config["CLOCK"] = lambda: moment


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def acme(app, make_organization):
    """A Kyiv client with an OPTIMA period, its owner and a member."""
    org = make_organization("Acme", "owner@acme.example", members=["member@acme.example"])
    with app.app_context():
        give_plan(db.session, org.id, "optima", *PERIOD)
    return org


def file_on_site(forms, **fields):
    """Fill in and send the filing form as the signed-in client; the response."""
    html = forms.client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    data = {"title": "Cannot print", "description": "The printer says no.", "category": "support"}
    data.update(submission=key, **fields)
    return forms.submit("/tickets/new", "/tickets?lang=en", data)


def ticket_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def clocks_on(html: str) -> dict[str, dict[str, str]]:
    """Each target's state and due time (its ``datetime``) on a ticket page."""
    found = {}
    for target, state, body in re.findall(
        r'<li class="clock[^"]*" data-target="([^"]+)" data-state="([^"]+)">(.*?)</li>', html, re.S
    ):
        due = re.search(r'datetime="([^"]+)"', body)
        used = re.search(r'aria-valuetext="([^"]+)"', body)
        found[target] = {
            "state": state,
            "due": due.group(1) if due else None,
            "used": used.group(1) if used else None,
        }
    return found


def page_of(forms, number: int) -> str:
    return forms.client.get(f"/tickets/{number}?lang=en").get_data(as_text=True)


# --- Done means -------------------------------------------------------------------------------


def test_a_kbs_client_watches_the_reaction_clock_pause_move_and_meet(app, forms, acme, desk, mails):
    at(app, FRIDAY_KYIV)
    forms.sign_in(acme.owner.email)
    number = ticket_id(file_on_site(forms))
    shown = clocks_on(page_of(forms, number))
    # One working day of nine hours: 1.5 h on Friday, 7.5 h on Monday.
    assert shown["reaction"]["due"] == "2026-11-30T16:30:00+02:00"
    assert shown["reaction"]["state"] == "running"

    at(
        app, FRIDAY_KYIV + timedelta(days=2, hours=19)
    )  # Monday 11:30 Kyiv: 1.5 h on Friday, 2.5 h today
    fragment = forms.client.get(
        f"/tickets/{number}/clocks?lang=en",
        headers={"HX-Request": "true", "HX-Target": "ticket-clocks"},
    ).get_data(as_text=True)
    assert fragment.startswith('<section id="ticket-clocks"')
    assert 'hx-trigger="every' in fragment
    assert clocks_on(fragment)["reaction"]["used"] == "4 h 00 min of 9 h 00 min"

    desk.submit(
        f"/tickets/{number}", f"/staff/tickets/{number}/status", {"status": "waiting_for_client"}
    )
    at(app, FRIDAY_KYIV + timedelta(days=2, hours=21))  # Monday 13:30: two hours later
    html = page_of(forms, number)
    assert clocks_on(html)["reaction"]["state"] == "paused"
    assert "Paused since 30 November 2026, 11:30, waiting for you." in visible_text(html)
    assert clocks_on(html)["reaction"]["used"] == "4 h 00 min of 9 h 00 min"  # the bar stands

    reply = forms.submit(f"/tickets/{number}", f"/tickets/{number}/replies", {"body": "Done."})
    assert reply.status_code == 303
    shown = clocks_on(page_of(forms, number))
    assert shown["reaction"]["state"] == "running"
    # Two working hours paused: 16:30 + 2 h = 18:00 Monday... + 0.5 h on Tuesday.
    assert shown["reaction"]["due"] == "2026-12-01T09:30:00+02:00"

    desk.submit(f"/tickets/{number}", f"/tickets/{number}/replies", {"body": "Fixed."})
    html = page_of(forms, number)
    assert clocks_on(html)["reaction"]["state"] == "met"
    assert "Met at 30 November 2026, 13:30" in visible_text(html)
    assert "data-poll" not in html  # nothing runs: the page asks no more
    assert [m["Subject"] for m in mails() if "Fixed." in m.get_body().get_content()]


@pytest.fixture
def iiko_app(make_app, outbox):
    return make_app(PORTAL_CATALOG="iiko", OUTBOX_DIR=str(outbox))


@pytest.mark.parametrize(
    ("target", "due"),
    [
        ("blocking", "2027-01-21T01:30:00+06:00"),  # 2.5 hours round the clock
        ("important", "2027-01-25T18:00:00+06:00"),  # 3 × 9 working hours: Thu, Fri, Mon
    ],
    ids=["a blocking error at 23:00 is due 2.5 h later", "an important one in 3 working days"],
)
def test_an_iiko_contract_clients_error_at_night_in_omsk(
    iiko_app, make_organization, form_client, target, due
):
    at(iiko_app, iso("2027-01-20T23:00:00+06:00"))
    client = make_organization("Cafe", "owner@cafe.example", language="ru", timezone="Asia/Omsk")
    with iiko_app.app_context():
        give_plan(db.session, client.id, "contract", *PERIOD, catalog="iiko")
    forms = form_client(iiko_app.test_client())
    forms.sign_in(client.owner.email)
    number = ticket_id(file_on_site(forms, target=target))
    assert clocks_on(page_of(forms, number))[target]["due"] == due


def test_without_a_plan_an_iiko_client_sees_the_one_off_terms_before_sending(
    iiko_app, make_organization, form_client
):
    at(iiko_app, iso("2027-01-20T23:00:00+06:00"))
    client = make_organization("Bar", "owner@bar.example", language="ru", timezone="Asia/Omsk")
    forms = form_client(iiko_app.test_client())
    forms.sign_in(client.owner.email)
    text = visible_text(forms.client.get("/tickets/new?lang=en").get_data(as_text=True))
    assert "You have no active plan: these one-off terms apply" in text
    number = ticket_id(file_on_site(forms, target="blocking"))
    with iiko_app.app_context():
        assert db.session.get(Ticket, number).plan == "one-off"
    # One-off: 5 hours round the clock.
    assert clocks_on(page_of(forms, number))["blocking"]["due"] == "2027-01-21T04:00:00+06:00"


def test_a_kbs_client_without_a_plan_is_told_no_response_time_applies(
    app, forms, make_organization
):
    at(app, FRIDAY_KYIV)
    lapsed = make_organization("Lapsed", "owner@lapsed.example")
    forms.sign_in(lapsed.owner.email)
    text = visible_text(forms.client.get("/tickets/new?lang=en").get_data(as_text=True))
    assert "You have no active plan: no response time applies." in text
    html = page_of(forms, ticket_id(file_on_site(forms)))
    assert "No response time applies to this ticket." in visible_text(html)
    assert "data-poll" not in html


# --- due times at awkward moments, as the filing service registers them ----------------------

AWKWARD = {
    "a Wednesday evening in Tehran: the week ends, due Saturday 13:00": (
        "iotex",
        "standard",
        "first-response",
        None,
        "2026-12-02T19:00:00+03:30",
        "2026-12-05T13:00:00+03:30",
    ),
    "the eve of the New Year holidays: 2 h on 30 December, then 11 and 12 January": (
        "iiko",
        "contract",
        "critical",
        "critical",
        "2026-12-30T16:00:00+06:00",
        "2027-01-12T16:00:00+06:00",
    ),
    "the day before Unity Day ends at 17:00: 1 h, then 9 h on the 5th and 8 h on the 6th": (
        "iiko",
        "contract",
        "critical",
        "critical",
        "2026-11-03T16:00:00+06:00",
        "2026-11-06T17:00:00+06:00",
    ),
    "a decreed working Saturday counts; the swapped Monday and the holiday do not": (
        "iiko",
        "contract",
        "critical",
        "critical",
        "2027-02-20T16:30:00+06:00",
        "2027-02-25T16:30:00+06:00",
    ),
    "the Friday before Kyiv's clocks go forward: due Monday at +03:00": (
        "kbs",
        "optima",
        "reaction",
        None,
        "2027-03-26T16:30:00+02:00",
        "2027-03-29T16:30:00+03:00",
    ),
}


@pytest.mark.parametrize(
    ("catalog", "plan", "target", "claimed", "opened", "due"), AWKWARD.values(), ids=AWKWARD
)
def test_a_ticket_filed_at_an_awkward_moment_is_due(
    make_app, make_organization, catalog, plan, target, claimed, opened, due
):
    app = make_app(PORTAL_CATALOG=catalog)
    org = make_organization("Client", "owner@client.example")
    opened = iso(opened)
    with app.app_context():
        give_plan(db.session, org.id, plan, date(2026, 1, 1), date(2027, 12, 31), catalog=catalog)
        book = current_catalog()
        owner = db.session.get(User, org.owner.id)
        ticket = filing.file_ticket(
            db.session,
            book,
            owner.organization,
            filing.TicketDetails("Title", "Text", "support", claimed),
            opened_by=owner,
            now=opened,
            today=opened.date(),
            files=file_policy(),
        )
        (row,) = ticket.targets
        assert row.target == target
        assert row.due_at.isoformat() == iso(due).astimezone(UTC).isoformat()


def test_staff_file_a_callers_ticket_from_the_time_of_the_call(app, acme, desk):
    at(app, iso("2026-11-27T10:25:00+02:00"))
    page = f"/staff/organizations/{acme.id}/tickets/new"
    html = desk.client.get(page + "?lang=en").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "title": "Printer",
        "description": "Phoned in.",
        "category": "support",
        "called_at": "2026-11-27T10:00",
        "contact_phone": "+380 44 000 00 00",
        "submission": key,
    }
    number = ticket_id(desk.submit(page, f"/staff/organizations/{acme.id}/tickets", data))
    with app.app_context():
        ticket = db.session.get(Ticket, number)
        assert ticket.opened_at == iso("2026-11-27T10:00:00+02:00")
        assert ticket.filed_by.email == "agent@example.com" and ticket.opened_by is None
    # Nine working hours from the call: eight on Friday, one on Monday.
    assert clocks_on(page_of(desk, number))["reaction"]["due"] == "2026-11-30T10:00:00+02:00"


@pytest.mark.parametrize(
    ("called_at", "message"),
    [
        ("2026-11-27T11:00", "The call cannot be later than now."),
        ("2026-11-01T10:00", "The call is over 7 days ago: file the ticket as of now."),
        ("yesterday", "Give the time of the call as date and time."),
    ],
    ids=["a call in the future", "a call too long ago", "a time that is no time"],
)
def test_a_call_time_staff_cannot_use_is_refused_beside_the_field(
    app, acme, desk, page, called_at, message
):
    at(app, iso("2026-11-27T10:25:00+02:00"))
    form_page = f"/staff/organizations/{acme.id}/tickets/new"
    response = desk.submit(
        form_page,
        f"/staff/organizations/{acme.id}/tickets?lang=en",
        {"title": "T", "description": "D", "category": "support", "called_at": called_at},
    )
    assert response.status_code == 422
    assert page(response.get_data(as_text=True)).error_beside("called_at") == message
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


# --- the status path, pauses, reopening, the defect path, a plan change (Crystals) -----------

OPENED = iso("2027-01-20T10:00:00+03:00")  # a Wednesday morning in Moscow


@pytest.fixture
def crystals(make_app, outbox, make_organization, make_user, form_client):
    """A Crystals Garant client signed in, staff signed in, and the app."""
    app = make_app(PORTAL_CATALOG="crystals", OUTBOX_DIR=str(outbox))
    at(app, OPENED)
    org = make_organization("Shop", "owner@shop.example", language="ru", timezone="Europe/Moscow")
    with app.app_context():
        give_plan(db.session, org.id, "garant", *PERIOD, catalog="crystals")
    client = form_client(app.test_client())
    client.sign_in(org.owner.email)
    agent = make_user("agent@example.com", role="staff", name="Ivan")
    staff = form_client(app.test_client())
    staff.sign_in(agent.email)
    return app, org, client, staff


def set_status(staff, number: int, status: str):
    return staff.submit(f"/tickets/{number}", f"/staff/tickets/{number}/status", {"status": status})


def test_crystals_registration_restore_wait_resolve_reopen_and_rate(crystals):
    app, _org, client, staff = crystals
    number = ticket_id(file_on_site(client, target="restore"))
    shown = clocks_on(page_of(client, number))
    assert shown["registration"]["due"] == "2027-01-20T10:15:00+03:00"
    assert shown["restore"]["due"] == "2027-01-20T14:00:00+03:00"

    at(app, OPENED + timedelta(minutes=10))
    staff.submit(f"/tickets/{number}", f"/tickets/{number}/replies", {"body": "Looking."})
    at(app, OPENED + timedelta(hours=1))
    set_status(staff, number, "waiting_for_client")
    at(app, OPENED + timedelta(hours=19))  # the client answers the next morning
    client.submit(f"/tickets/{number}", f"/tickets/{number}/replies", {"body": "Logs attached."})
    shown = clocks_on(page_of(client, number))
    assert shown["registration"]["state"] == "met"
    # Round the clock: the 18 hours waited move the restore target by 18 hours.
    assert shown["restore"]["due"] == "2027-01-21T08:00:00+03:00"

    at(app, OPENED + timedelta(hours=20))
    set_status(staff, number, "resolved")
    assert clocks_on(page_of(client, number))["restore"]["state"] == "met"
    at(app, OPENED + timedelta(hours=22))  # two hours resolved, then the client says no
    client.submit(f"/tickets/{number}", f"/tickets/{number}/replies", {"body": "Still broken."})
    shown = clocks_on(page_of(client, number))
    assert shown["restore"]["state"] == "running"
    assert shown["restore"]["due"] == "2027-01-21T10:00:00+03:00"  # the resolved time paused it
    with app.app_context():
        ticket = db.session.get(Ticket, number)
        assert ticket.status == "in_progress"
        assert [pause.kind for pause in ticket.pauses] == ["waiting", "resolved"]

    at(app, OPENED + timedelta(hours=23))
    set_status(staff, number, "resolved")
    rated = client.submit(
        f"/tickets/{number}", f"/tickets/{number}/rating", {"rating": "4", "comment": "Quick."}
    )
    assert rated.status_code == 303
    assert "Quick." in page_of(staff, number)
    closed = client.submit(f"/tickets/{number}", f"/tickets/{number}/close")
    assert closed.status_code == 303
    with app.app_context():
        assert db.session.get(Ticket, number).status == "closed"
    late = client.submit(f"/tickets/{number}", f"/tickets/{number}/replies?lang=en", {"body": "?"})
    assert late.status_code == 422


def test_a_confirmed_defect_starts_the_fix_date_target_met_when_staff_record_it(crystals):
    app, _org, client, staff = crystals
    number = ticket_id(file_on_site(client, target="restore"))
    assert "fix-eta" not in clocks_on(page_of(client, number))
    at(app, OPENED + timedelta(hours=1))
    staff.submit(f"/tickets/{number}", f"/staff/tickets/{number}/defect")
    shown = clocks_on(page_of(client, number))
    assert shown["fix-eta"]["due"] == "2027-01-23T11:00:00+03:00"  # 3 days from confirmation
    at(app, OPENED + timedelta(hours=2))
    staff.submit(
        f"/tickets/{number}", f"/staff/tickets/{number}/fix-date", {"fix_date": "2027-02-01"}
    )
    assert clocks_on(page_of(client, number))["fix-eta"]["state"] == "met"
    assert "1 February 2027" in visible_text(page_of(client, number))


def test_a_plan_change_computes_the_due_times_again_from_the_pause_history(crystals):
    app, _org, client, staff = crystals
    number = ticket_id(file_on_site(client, target="restore"))
    at(app, OPENED + timedelta(hours=1))
    set_status(staff, number, "waiting_for_client")
    at(app, OPENED + timedelta(hours=3))
    set_status(staff, number, "in_progress")
    changed = staff.submit(
        f"/tickets/{number}",
        f"/staff/tickets/{number}/plan",
        {"plan": "garant", "target": "critical-process"},
    )
    assert changed.status_code == 303
    # Critical process: 2 hours, plus the 2 hours waited.
    assert clocks_on(page_of(client, number))["critical-process"]["due"] == (
        "2027-01-20T14:00:00+03:00"
    )


def test_an_out_of_scope_category_says_what_help_is_given_instead(crystals):
    _app, _org, client, _staff = crystals
    text = visible_text(client.client.get("/tickets/new?lang=en").get_data(as_text=True))
    assert "Consultations on diagnosing the problem and working out a solution" in text
    number = ticket_id(file_on_site(client, category="third-party"))
    text = visible_text(page_of(client, number))
    assert "Consultations on diagnosing the problem and working out a solution" in text
    # Registration still promises 15 minutes for every ticket.
    assert set(clocks_on(page_of(client, number))) == {"registration"}


def test_a_development_request_is_a_proposal_with_no_response_time(app, forms, acme):
    at(app, FRIDAY_KYIV)
    forms.sign_in(acme.owner.email)
    number = ticket_id(file_on_site(forms, category="development"))
    html = page_of(forms, number)
    assert clocks_on(html) == {}
    assert "proposal" in visible_text(html)


# --- the sweep and the closing job ------------------------------------------------------------


def test_the_sweep_warns_once_at_80_percent_and_announces_a_breach_once(crystals, mails):
    app, _org, client, _staff = crystals
    ticket_id(file_on_site(client, target="restore"))
    runner = app.test_cli_runner()
    before = len(mails())

    at(app, OPENED + timedelta(minutes=13))  # 13 of registration's 15 minutes: past 80%
    first = runner.invoke(args=["sla", "sweep"])
    assert first.exit_code == 0 and "1 warning(s), 0 breach(es)" in first.output
    warnings = mails()[before:]
    assert [m["To"].addresses[0].addr_spec for m in warnings] == ["agent@example.com"]
    assert "Request registered" in warnings[0]["Subject"] or "Регистрация" in warnings[0]["Subject"]
    assert "0 warning(s), 0 breach(es)" in runner.invoke(args=["sla", "sweep"]).output

    at(app, OPENED + timedelta(minutes=16))  # registration breached
    assert "0 warning(s), 1 breach(es)" in runner.invoke(args=["sla", "sweep"]).output
    breach = mails()[before + 1 :]
    assert sorted(m["To"].addresses[0].addr_spec for m in breach) == [
        "agent@example.com",
        "owner@shop.example",
    ]
    assert "0 warning(s), 0 breach(es)" in runner.invoke(args=["sla", "sweep"]).output
    assert len(mails()) == before + 3
    with app.app_context():
        (ticket,) = db.session.scalars(sa.select(Ticket))
        assert ticket.targets[0].breached_at == OPENED + timedelta(minutes=16)
    assert clocks_on(page_of(client, ticket.id))["registration"]["state"] == "breached"


def test_a_target_already_past_due_is_announced_as_breached_and_never_warned_late(crystals, mails):
    app, _org, client, _staff = crystals
    ticket_id(file_on_site(client, target="restore"))
    at(app, OPENED + timedelta(hours=5))  # both registration and restore are past due
    with app.app_context():
        alarms = sweep.sweep(
            db.session, OPENED + timedelta(hours=5), app.extensions["outbox"], alarm_mails()
        )
    assert sorted((a.kind, a.target) for a in alarms) == [
        ("breach", "registration"),
        ("breach", "restore"),
    ]


def test_a_waiting_ticket_is_neither_warned_nor_breached(crystals, mails):
    app, _org, client, staff = crystals
    number = ticket_id(file_on_site(client, target="restore"))
    at(app, OPENED + timedelta(minutes=5))
    set_status(staff, number, "waiting_for_client")
    at(app, OPENED + timedelta(days=2))
    assert (
        "0 warning(s), 0 breach(es)" in app.test_cli_runner().invoke(args=["sla", "sweep"]).output
    )


def test_resolved_tickets_close_after_the_configured_days_once(crystals):
    app, _org, client, staff = crystals
    number = ticket_id(file_on_site(client, target="restore"))
    set_status(staff, number, "resolved")
    runner = app.test_cli_runner()
    at(app, OPENED + timedelta(days=6, hours=23))
    assert "0 resolved ticket(s) closed" in runner.invoke(args=["sla", "close-resolved"]).output
    at(app, OPENED + timedelta(days=7, minutes=1))
    assert "1 resolved ticket(s) closed" in runner.invoke(args=["sla", "close-resolved"]).output
    assert "0 resolved ticket(s) closed" in runner.invoke(args=["sla", "close-resolved"]).output
    with app.app_context():
        assert db.session.get(Ticket, number).status == "closed"


# --- files ------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def files_app(make_app, outbox, tmp_path):
    folder = tmp_path / "ticket-files"
    app = make_app(
        OUTBOX_DIR=str(outbox), TICKET_FILES_DIR=str(folder), TICKET_FILE_MAX_BYTES=3 * 2**20
    )
    app.files_folder = folder
    return app


def file_with(forms, *files):
    """Send the filing form with ``files`` (name, content) as a browser would."""
    html = forms.client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    fields = MultiDict(
        {
            "csrf_token": forms.token("/tickets/new"),
            "title": "Screen",
            "description": "See the picture.",
            "category": "support",
            "submission": key,
        }
    )
    for name, content in files:
        fields.add("files", FileStorage(io.BytesIO(content), filename=name))
    # Encoded in memory: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(fields)
    return forms.client.post(
        "/tickets?lang=en", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_picture_is_stored_outside_static_and_served_to_the_organization_and_staff(
    files_app, make_organization, make_user, form_client
):
    app = files_app
    at(app, FRIDAY_KYIV)
    acme = make_organization("Acme", "owner@acme.example", members=["member@acme.example"])
    other = make_organization("Other", "owner@other.example")
    make_user("agent@example.com", role="staff")
    owner = form_client(app.test_client())
    owner.sign_in(acme.owner.email)
    # A name that tries to climb out of the folder keeps only its last part.
    number = ticket_id(file_with(owner, ("../../etc/screen.png", PNG)))
    with app.app_context():
        (row,) = db.session.scalars(sa.select(TicketAttachment))
        assert row.filename == "screen.png" and row.mime_type == "image/png"
        assert (app.files_folder / row.stored_name).read_bytes() == PNG
        assert "static" not in str(app.files_folder / row.stored_name)
        url = f"/tickets/{number}/files/{row.id}"
    assert url in page_of(owner, number)

    member = form_client(app.test_client())
    member.sign_in(acme.members[0].email)
    staff = form_client(app.test_client())
    staff.sign_in("agent@example.com")
    stranger = form_client(app.test_client())
    stranger.sign_in(other.owner.email)
    for reader in (owner, member, staff):
        response = reader.client.get(url)
        assert response.status_code == 200 and response.data == PNG
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    assert stranger.client.get(url).status_code == 404
    assert app.test_client().get(url).status_code in (302, 303)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", EXE, "photo.png is not a file type we take"),
        ("big.txt", b"a" * (3 * 2**20 + 1), "big.txt is larger than 3 MB."),
        ("empty.txt", b"", "empty.txt is empty."),
    ],
    ids=["a program behind a picture's name", "a file over the limit", "an empty file"],
)
def test_a_file_the_portal_does_not_take_is_refused_beside_the_field_and_nothing_is_kept(
    files_app, make_organization, form_client, page, name, content, message
):
    app = files_app
    at(app, FRIDAY_KYIV)
    acme = make_organization("Acme", "owner@acme.example")
    forms = form_client(app.test_client())
    forms.sign_in(acme.owner.email)
    response = file_with(forms, ("note.txt", b"fine"), (name, content))
    assert response.status_code == 422
    assert message in page(response.get_data(as_text=True)).error_beside("files")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(TicketAttachment.id))) == 0
    assert not app.files_folder.exists() or not any(app.files_folder.iterdir())
    # What was typed is still there to send again.
    assert page(response.get_data(as_text=True)).value("title") == "Screen"


def test_a_body_larger_than_a_messages_files_is_refused_with_413_in_the_readers_language(
    files_app, make_organization, form_client
):
    app = files_app
    acme = make_organization("Acme", "owner@acme.example")
    forms = form_client(app.test_client())
    forms.sign_in(acme.owner.email)
    response = file_with(forms, *[(f"{n}.txt", b"a" * (3 * 2**20)) for n in range(6)])
    assert response.status_code == 413
    assert "at most 16 MB" in response.get_data(as_text=True)


# --- who may see and do what ------------------------------------------------------------------


@pytest.fixture
def one_ticket(app, acme):
    """Acme's ticket, filed by its owner on the site."""
    at(app, FRIDAY_KYIV)
    with app.app_context():
        owner = db.session.get(User, acme.owner.id)
        ticket = filing.file_ticket(
            db.session,
            current_catalog(),
            owner.organization,
            filing.TicketDetails("Printer", "Broken.", "support"),
            opened_by=owner,
            now=FRIDAY_KYIV,
            today=FRIDAY_KYIV.date(),
            files=file_policy(),
        )
        return ticket.id


READS = ["/tickets/{id}", "/tickets/{id}/clocks"]
CLIENT_WRITES = [
    ("/tickets/{id}/replies", {"body": "Hello"}),
    ("/tickets/{id}/close", {}),
    ("/tickets/{id}/rating", {"rating": "5"}),
]
STAFF_WRITES = [
    ("/staff/tickets/{id}/status", {"status": "in_progress"}),
    ("/staff/tickets/{id}/assignee", {"assignee": ""}),
    ("/staff/tickets/{id}/defect", {}),
    ("/staff/tickets/{id}/fix-date", {"fix_date": "2027-01-01"}),
    ("/staff/tickets/{id}/plan", {"plan": "optima"}),
]


def who(app, make_organization, make_user, form_client, acme, kind):
    forms = form_client(app.test_client())
    if kind == "another organization":
        other = make_organization("Other", "owner@other.example")
        forms.sign_in(other.owner.email)
    elif kind == "a member":
        forms.sign_in(acme.members[0].email)
    elif kind == "staff":
        forms.sign_in(make_user("agent@example.com", role="staff").email)
    return forms


@pytest.mark.parametrize(
    ("kind", "reads", "client_writes", "staff_writes"),
    [
        ("anonymous", "sign in", "sign in", "sign in"),
        ("another organization", 404, 404, 404),
        ("a member", 200, "allowed", 404),
        ("staff", 200, "replies only", "allowed"),
    ],
)
def test_every_ticket_route_as(
    app,
    acme,
    one_ticket,
    make_organization,
    make_user,
    form_client,
    kind,
    reads,
    client_writes,
    staff_writes,
):
    forms = who(app, make_organization, make_user, form_client, acme, kind)
    token = forms.token("/")  # a page every visitor reads: its token is the session's
    for path in READS:
        response = forms.client.get(path.format(id=one_ticket))
        if reads == "sign in":
            assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
        else:
            assert response.status_code in ((reads, 303) if "clocks" in path else (reads,))
    for path, data in CLIENT_WRITES + STAFF_WRITES:
        response = forms.client.post(path.format(id=one_ticket), data={"csrf_token": token, **data})
        allowed = client_writes if (path, data) in CLIENT_WRITES else staff_writes
        if allowed == "replies only":
            allowed = "allowed" if path.endswith("replies") else 404
        if allowed == "sign in":
            assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
        elif allowed == "allowed":
            assert response.status_code in (303, 422), (path, response.status_code)
        else:
            assert response.status_code == allowed, (path, response.status_code)
    staff_pages = ["/staff/tickets", f"/staff/organizations/{acme.id}/tickets/new"]
    for path in ["/tickets", "/tickets/new", *staff_pages]:
        status = forms.client.get(path).status_code
        if kind == "anonymous":
            assert status in (302, 303)
        elif kind == "staff":
            assert status == (200 if path in staff_pages else 404)
        else:
            assert status == (404 if path in staff_pages else 200)


def test_a_list_shows_only_the_organizations_own_tickets(
    app, acme, one_ticket, make_organization, form_client
):
    other = make_organization("Other", "owner@other.example")
    forms = form_client(app.test_client())
    forms.sign_in(other.owner.email)
    assert "Printer" not in forms.client.get("/tickets?lang=en").get_data(as_text=True)
    member = form_client(app.test_client())
    member.sign_in(acme.members[0].email)
    assert "Printer" in member.client.get("/tickets?lang=en").get_data(as_text=True)


def test_the_same_form_sent_twice_files_one_ticket(app, forms, acme):
    at(app, FRIDAY_KYIV)
    forms.sign_in(acme.owner.email)
    html = forms.client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "title": "Twice",
        "description": "Clicked twice.",
        "category": "support",
        "submission": key,
    }
    first = forms.submit("/tickets/new", "/tickets", data)
    second = forms.submit("/tickets/new", "/tickets", data)
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Say in a few words what happened."),
        ({"title": "x" * 201}, "title", "The title is too long: at most 200 characters."),
        ({"description": " "}, "description", "Describe the problem: what you did, what you saw."),
        ({"category": "astrology"}, "category", "Not a valid choice"),
    ],
    ids=["no title", "a title too long", "no description", "a category the catalog lacks"],
)
def test_a_filing_form_with_a_mistake_says_so_beside_the_field(
    app, forms, acme, page, fields, field, message
):
    at(app, FRIDAY_KYIV)
    forms.sign_in(acme.owner.email)
    response = file_on_site(forms, **fields)
    assert response.status_code == 422
    assert message in page(response.get_data(as_text=True)).error_beside(field)


def test_a_status_the_path_does_not_allow_is_refused_and_said(app, acme, one_ticket, desk):
    response = desk.submit(
        f"/tickets/{one_ticket}",
        f"/staff/tickets/{one_ticket}/status?lang=en",
        {"status": "closed"},
    )
    assert response.status_code == 303
    html = desk.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The ticket cannot go to that status from where it is." in visible_text(html)
    with app.app_context():
        assert db.session.get(Ticket, one_ticket).status == "new"


# --- the staff queue --------------------------------------------------------------------------


def many_tickets(app, organization_id: int, count: int, start: datetime) -> None:
    with app.app_context():
        book = current_catalog()
        owner = db.session.scalar(sa.select(User).where(User.organization_id == organization_id))
        for n in range(count):
            filing.file_ticket(
                db.session,
                book,
                owner.organization,
                filing.TicketDetails(f"Ticket {n}", "Text", "support"),
                opened_by=owner,
                now=start + timedelta(minutes=n),
                today=start.date(),
                files=file_policy(),
            )


def test_the_queue_is_ordered_by_the_nearest_due_time_and_filters(app, acme, desk):
    many_tickets(app, acme.id, 3, FRIDAY_KYIV - timedelta(days=3))  # Tuesday: breached by now
    many_tickets(app, acme.id, 2, FRIDAY_KYIV)
    at(app, FRIDAY_KYIV + timedelta(minutes=5))
    html = desk.client.get("/staff/tickets?lang=en").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'data-ticket="(\d+)"', html)]
    assert len(order) == 5 and order[:3] == sorted(order[:3])
    breached = desk.client.get("/staff/tickets?due=breached").get_data(as_text=True)
    assert len(re.findall(r'data-ticket="', breached)) == 3
    unassigned = desk.client.get("/staff/tickets?assignee=none").get_data(as_text=True)
    assert len(re.findall(r'data-ticket="', unassigned)) == 5
    waiting = desk.client.get("/staff/tickets?status=waiting_for_client")
    assert re.findall(r'data-ticket="', waiting.get_data(as_text=True)) == []


def test_the_queue_and_a_clients_list_run_as_many_queries_for_60_tickets_as_for_3(
    app, acme, desk, forms
):
    from tests.web.test_lists import counting

    at(app, FRIDAY_KYIV)
    forms.sign_in(acme.owner.email)

    def queries(client, path):
        client.get(path)
        with counting(app) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    many_tickets(app, acme.id, 3, FRIDAY_KYIV)
    few = (queries(desk.client, "/staff/tickets"), queries(forms.client, "/tickets"))
    many_tickets(app, acme.id, 57, FRIDAY_KYIV)
    assert (queries(desk.client, "/staff/tickets"), queries(forms.client, "/tickets")) == few


def test_the_same_reply_sent_twice_adds_one_message(app, forms, acme, one_ticket):
    from portal.models import TicketMessage

    forms.sign_in(acme.owner.email)
    html = forms.client.get(f"/tickets/{one_ticket}").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    for _ in range(2):
        response = forms.submit(
            f"/tickets/{one_ticket}",
            f"/tickets/{one_ticket}/replies",
            {"body": "Once.", "submission": key},
        )
        assert response.status_code == 303
    with app.app_context():
        bodies = db.session.scalars(
            sa.select(TicketMessage.body).where(TicketMessage.ticket_id == one_ticket)
        ).all()
        assert bodies.count("Once.") == 1


def test_a_renewal_paid_early_does_not_hide_the_plan_that_runs_today(app, forms, acme):
    with app.app_context():
        give_plan(db.session, acme.id, "premium", date(2027, 11, 1), date(2028, 10, 31))
    at(app, FRIDAY_KYIV)
    forms.sign_in(acme.owner.email)
    number = ticket_id(file_on_site(forms))
    with app.app_context():
        assert db.session.get(Ticket, number).plan == "optima"


def test_a_queue_longer_than_its_count_limit_says_more_than(app, acme, desk, monkeypatch):
    from portal.tickets import staff as staff_views

    monkeypatch.setattr(staff_views, "QUEUE_COUNT_LIMIT", 3)
    many_tickets(app, acme.id, 5, FRIDAY_KYIV)
    html = desk.client.get("/staff/tickets?lang=en").get_data(as_text=True)
    assert "1–5 of more than 3" in visible_text(html)  # counted only as far as the limit
