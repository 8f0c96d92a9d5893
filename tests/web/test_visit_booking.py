"""Iotex's on-site visits, booked by clients and planned by staff, on both databases.

The Done-means walk first: a premium client in Tehran books an 8-hour visit next week,
sees 4 of 12 free hours left and gets the calendar file; a standard client trying the
same slot a moment later is offered the nearest free ones. Then quotas and prices,
changes with their calendar files (one UID), the dispatch queue, the database's last
word on a double booking, mistakes and access.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import icalendar
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Order, Technician, TechnicianTimeOff, Visit
from tests.seed import give_plan
from tests.web.conftest import visible_text

# Saturday 12 December 2026, 09:30 in Tehran: "next week" starts Saturday the 19th.
NOW = datetime(2026, 12, 12, 6, 0, tzinfo=UTC)
NEXT_SATURDAY = "2026-12-19T09:00:00+03:30"
NEXT_SATURDAY_AFTERNOON = "2026-12-19T13:00:00+03:30"
PERIOD = (date(2026, 12, 1), date(2027, 11, 30))
ADDRESS = "Tehran, Valiasr St, No. 12"
PURPOSE = "The cash registers stop printing receipts after the update."


@pytest.fixture
def iotex(make_app, outbox):
    # Twenty clients sign in from one address in the race below: no sign-in rate limit.
    app = make_app(PORTAL_CATALOG="iotex", OUTBOX_DIR=str(outbox), RATELIMIT_ENABLED=False)
    app.config["CLOCK"] = lambda: NOW
    return app


@pytest.fixture
def technician(iotex, make_user):
    account = make_user("reza@iotex.example", role="staff", name="Reza")
    with iotex.app_context():
        row = Technician(user_id=account.id, catalog="iotex", region="area", created_at=NOW)
        db.session.add(row)
        db.session.commit()
        return row.id


def client_of(iotex, make_organization, form_client, name, email, plan):
    org = make_organization(name, email, language="fa", timezone="Asia/Tehran")
    with iotex.app_context():
        give_plan(db.session, org.id, plan, *PERIOD, catalog="iotex", term="1y")
    forms = form_client(iotex.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(org.owner.email).status_code == 303
    forms.org = org
    return forms


@pytest.fixture
def premium(iotex, make_organization, form_client, technician):
    return client_of(
        iotex, make_organization, form_client, "Arya Co", "owner@arya.example", "premium"
    )


@pytest.fixture
def standard(iotex, make_organization, form_client, technician):
    return client_of(
        iotex, make_organization, form_client, "Sina Co", "owner@sina.example", "standard"
    )


@pytest.fixture
def basic(iotex, make_organization, form_client, technician):
    return client_of(
        iotex, make_organization, form_client, "Kian Co", "owner@kian.example", "basic"
    )


def new_page(hours=4, region="area", week="2026-12-19", periodic=False):
    return f"/visits/new?hours={hours}&region={region}&week={week}" + (
        "&periodic=1" if periodic else ""
    )


def key_of(forms, page):
    html = forms.client.get(page).get_data(as_text=True)
    return re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)


def accepted_of(forms, page):
    html = forms.client.get(page).get_data(as_text=True)
    found = re.search(r'name="accepted_total" form="visit-form" value="([^"]*)"', html)
    return found.group(1) if found else ""


def book(forms, when=NEXT_SATURDAY, hours=4, region="area", periodic=False, **extra):
    page = new_page(hours, region, periodic=periodic)
    data = {
        "hours": str(hours),
        "region": region,
        "when": when,
        "address": ADDRESS,
        "purpose": PURPOSE,
        "contact_phone": "+98 21 8812 0000",
        "submission": key_of(forms, page),
        # The price the page shows for the time chosen (its contract year decides).
        "accepted_total": accepted_of(forms, f"{page}&when={quote(when or '')}"),
        **({"periodic": "1"} if periodic else {}),
        **extra,
    }
    return forms.submit(page, "/visits", {k: v for k, v in data.items() if v is not None})


def visits(app, **where):
    with app.app_context():
        query = sa.select(Visit).order_by(Visit.id)
        for name, value in where.items():
            query = query.where(getattr(Visit, name) == value)
        return list(db.session.scalars(query))


def calendar_files(mails, to):
    found = []
    for message in mails():
        if message["To"].addresses[0].addr_spec != to:
            continue
        for part in message.iter_attachments():
            if part.get_filename() == "visit.ics":
                found.append(icalendar.Calendar.from_ical(part.get_content()))
    return found


def event_of(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


# --- the Done-means walk ---------------------------------------------------------------------


def test_a_premium_client_books_eight_hours_and_a_standard_one_is_offered_the_nearest(
    iotex, premium, standard, mails
):
    response = book(premium, hours=8)
    assert response.status_code == 303
    (visit,) = visits(iotex)
    page = visible_text(premium.client.get(response.location).get_data(as_text=True))
    assert "Booked" in page and "Reza" in page
    quota = visible_text(premium.client.get("/visits").get_data(as_text=True))
    assert "4 of 12 h left" in quota

    (calendar,) = calendar_files(mails, "owner@arya.example")
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == visit.uid and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == datetime(2026, 12, 19, 5, 30, tzinfo=UTC)
    assert "TZID" not in event["DTSTART"].params, "UTC: no time zone definition to need"
    assert event.decoded("DTEND") == datetime(2026, 12, 19, 13, 30, tzinfo=UTC)
    assert str(event["LOCATION"]) == ADDRESS
    assert calendar_files(mails, "reza@iotex.example"), "the technician has it too"

    late = book(standard, hours=4, when=NEXT_SATURDAY)
    assert late.status_code == 409
    text = visible_text(late.get_data(as_text=True))
    assert "This time was just taken. Here are the nearest free ones." in text
    assert "The nearest free times:" in text
    assert len(visits(iotex)) == 1


# --- quotas and prices -----------------------------------------------------------------------


def test_a_standard_client_uses_its_four_free_hours_and_pays_for_the_next_block(iotex, standard):
    assert book(standard).status_code == 303
    assert "0 of 4 h left" in visible_text(standard.client.get("/visits").get_data(as_text=True))
    page = visible_text(standard.client.get(new_page()).get_data(as_text=True))
    assert "7,000,000" in page or "7 000 000" in page

    refused = book(standard, when=NEXT_SATURDAY_AFTERNOON)
    assert refused.status_code == 422
    assert "Tick the box to accept the price." in visible_text(refused.get_data(as_text=True))

    priced = book(standard, when=NEXT_SATURDAY_AFTERNOON, accept="y")
    assert priced.status_code == 303 and "/orders/" in priced.location
    second = visits(iotex)[-1]
    with iotex.app_context():
        order = db.session.get(Order, second.order_id)
        assert (order.total, order.kind, order.status) == (
            Decimal("7000000"),
            "visit",
            "pending_payment",
        )


@pytest.mark.parametrize("seen", ["1000", "sNaN", "Infinity"])
def test_a_price_other_than_the_one_accepted_is_refused(iotex, basic, seen):
    response = book(basic, accept="y", accepted_total=seen)
    assert response.status_code == 409
    assert "not the one you accepted" in visible_text(response.get_data(as_text=True))
    assert visits(iotex) == []


def test_a_cancelled_order_calls_its_visit_off(iotex, standard):
    assert book(standard).status_code == 303
    priced = book(standard, when=NEXT_SATURDAY_AFTERNOON, accept="y")
    order_path = priced.location
    assert standard.submit(order_path, f"{order_path}/cancel").status_code in (302, 303)
    paid_for = visits(iotex)[-1]
    assert paid_for.status == "cancelled"
    assert visits(iotex)[0].status == "booked"


def test_the_same_booking_sent_twice_at_once_books_once(iotex, premium):
    page = new_page()
    token, key = premium.token(page), key_of(premium, page)
    data = {
        "csrf_token": token,
        "hours": "4",
        "region": "area",
        "when": NEXT_SATURDAY,
        "address": ADDRESS,
        "purpose": PURPOSE,
        "submission": key,
        "accepted_total": "",
    }
    other = premium.client.application.test_client()
    other.set_cookie("session", premium.client.get_cookie("session").value)
    codes = [None, None]
    barrier = threading.Barrier(2)

    def run(index, client):
        barrier.wait()
        codes[index] = client.post("/visits", data=data).status_code

    threads = [
        threading.Thread(target=run, args=(i, c)) for i, c in enumerate((premium.client, other))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [303, 303]
    assert len(visits(iotex)) == 1


def test_out_of_town_every_hour_is_priced_and_travel_is_billed_at_cost(iotex, premium):
    page = visible_text(premium.client.get(new_page(8, "out-of-town")).get_data(as_text=True))
    assert "travel and accommodation are billed at cost" in page


def test_periodic_visits_are_proposed_and_counted(iotex, premium):
    listing = visible_text(premium.client.get("/visits").get_data(as_text=True))
    assert "Book this periodic visit" in listing and "0 of 2 booked" in listing
    assert book(premium, periodic=True).status_code == 303
    (visit,) = visits(iotex)
    assert (visit.kind, visit.periodic_covered, visit.covered_hours) == ("periodic", True, 0)
    assert "1 of 2 booked" in visible_text(premium.client.get("/visits").get_data(as_text=True))


def test_a_technicians_time_off_removes_its_blocks(iotex, premium, technician):
    with iotex.app_context():
        db.session.add(
            TechnicianTimeOff(
                technician_id=technician,
                starts_at=datetime(2026, 12, 19, 0, 0, tzinfo=UTC),
                ends_at=datetime(2026, 12, 20, 0, 0, tzinfo=UTC),
                created_at=NOW,
            )
        )
        db.session.commit()
    html = premium.client.get(new_page()).get_data(as_text=True)
    assert NEXT_SATURDAY not in html and "2026-12-20T09:00:00+03:30" in html
    assert book(premium).status_code == 409


# --- changes and their calendar files ---------------------------------------------------------


def test_a_move_and_a_cancellation_keep_one_uid_and_give_the_hours_back(iotex, premium, mails):
    assert book(premium, hours=8).status_code == 303
    (visit,) = visits(iotex)
    moved = premium.submit(
        f"/visits/{visit.id}/move",
        f"/visits/{visit.id}/move",
        {"when": "2026-12-20T09:00:00+03:30", "week": "2026-12-19"},
    )
    assert moved.status_code == 303
    cancelled = premium.submit(f"/visits/{visit.id}", f"/visits/{visit.id}/cancel")
    assert cancelled.status_code == 303
    assert "12 of 12 h left" in visible_text(premium.client.get("/visits").get_data(as_text=True))

    booked, moved_file, cancel_file = calendar_files(mails, "owner@arya.example")
    uids = {str(event_of(c)["UID"]) for c in (booked, moved_file, cancel_file)}
    assert uids == {visit.uid}
    assert [int(event_of(c)["SEQUENCE"]) for c in (booked, moved_file, cancel_file)] == [0, 1, 2]
    assert [str(c["METHOD"]) for c in (booked, moved_file, cancel_file)] == [
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    assert event_of(moved_file).decoded("DTSTART") == datetime(2026, 12, 20, 5, 30, tzinfo=UTC)


def test_too_late_to_change_the_client_asks_staff_instead(iotex, premium):
    assert book(premium).status_code == 303
    (visit,) = visits(iotex)
    iotex.config["CLOCK"] = lambda: datetime(2026, 12, 18, 12, 0, tzinfo=UTC)
    page = visible_text(premium.client.get(f"/visits/{visit.id}").get_data(as_text=True))
    assert "starts too soon to change it here" in page
    refused = premium.submit(f"/visits/{visit.id}", f"/visits/{visit.id}/cancel")
    assert refused.status_code == 409
    asked = premium.submit(
        f"/visits/{visit.id}", f"/visits/{visit.id}/change", {"change": "Please come at 11."}
    )
    assert asked.status_code == 303
    (visit,) = visits(iotex)
    assert (visit.status, visit.change_request) == ("booked", "Please come at 11.")


# --- the dispatch queue ----------------------------------------------------------------------


def test_as_soon_as_possible_requests_queue_by_plan_priority_and_staff_assign_them(
    iotex, premium, standard, desk_iotex, technician, mails
):
    assert book(standard, when="asap").status_code == 303
    assert book(premium, when="asap").status_code == 303
    queue = desk_iotex.client.get("/staff/visits").get_data(as_text=True)
    assert queue.index("Arya Co") < queue.index("Sina Co")
    waiting = visits(iotex, status="requested")
    first = next(v for v in waiting if v.plan == "premium")
    assigned = desk_iotex.submit(
        "/staff/visits",
        f"/staff/visits/{first.id}/assign",
        {"technician_id": str(technician), "day": "2026-12-13", "start": "09:00"},
    )
    assert assigned.status_code == 303
    assert visits(iotex, id=first.id)[0].status == "booked"
    assert calendar_files(mails, "owner@arya.example")
    clash = desk_iotex.submit(
        "/staff/visits",
        f"/staff/visits/{next(v for v in waiting if v.plan == 'standard').id}/assign",
        {"technician_id": str(technician), "day": "2026-12-13", "start": "11:00"},
    )
    assert clash.status_code == 409


@pytest.fixture
def desk_iotex(iotex, make_user, form_client):
    account = make_user("dispatch@iotex.example", role="staff", name="Dispatcher")
    forms = form_client(iotex.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    return forms


def test_staff_see_each_technicians_day_plan(iotex, premium, desk_iotex):
    assert book(premium).status_code == 303
    plan = visible_text(
        desk_iotex.client.get("/staff/visits?day=2026-12-19").get_data(as_text=True)
    )
    assert "Reza" in plan and "Arya Co" in plan and "09:00–13:00" in plan


def test_staff_move_a_visit_to_another_technician_who_is_told_and_the_first_released(
    iotex, premium, desk_iotex, make_user, technician, mails
):
    other = make_user("navid@iotex.example", role="staff", name="Navid")
    with iotex.app_context():
        row = Technician(user_id=other.id, catalog="iotex", region="area", created_at=NOW)
        db.session.add(row)
        db.session.commit()
        second = row.id
    assert book(premium).status_code == 303
    (visit,) = visits(iotex)
    moved = desk_iotex.submit(
        f"/staff/visits/{visit.id}",
        f"/staff/visits/{visit.id}/move",
        {"technician_id": str(second), "day": "2026-12-19", "start": "10:30"},
    )
    assert moved.status_code == 303
    (visit,) = visits(iotex)
    assert (visit.technician_id, visit.sequence) == (second, 1)
    assert visit.starts_at == datetime(2026, 12, 19, 7, 0, tzinfo=UTC)
    released = calendar_files(mails, "reza@iotex.example")[-1]
    assert str(released["METHOD"]) == "CANCEL" and str(event_of(released)["UID"]) == visit.uid
    assert str(calendar_files(mails, "navid@iotex.example")[-1]["METHOD"]) == "REQUEST"


def test_staff_add_a_technician_with_their_own_hours(iotex, desk_iotex, make_user):
    newcomer = make_user("navid@iotex.example", role="staff", name="Navid")
    bad = desk_iotex.submit(
        "/staff/technicians",
        "/staff/technicians",
        {"user_id": str(newcomer.id), "region": "area", "hours": "17:00-09:00"},
    )
    assert bad.status_code == 422
    assert "Give hours such as" in visible_text(bad.get_data(as_text=True))
    unknown = desk_iotex.submit(
        "/staff/technicians",
        "/staff/technicians",
        {"user_id": str(newcomer.id), "region": "area", "holidays": "XX"},
    )
    assert unknown.status_code == 422
    assert "country code such as IR" in visible_text(unknown.get_data(as_text=True))
    good = desk_iotex.submit(
        "/staff/technicians",
        "/staff/technicians",
        {"user_id": str(newcomer.id), "region": "out-of-town", "hours": "08:00-16:00"},
    )
    assert good.status_code == 303
    with iotex.app_context():
        row = db.session.scalar(sa.select(Technician).where(Technician.user_id == newcomer.id))
        assert (row.region, row.hours) == ("out-of-town", "08:00-16:00")


# --- the database decides --------------------------------------------------------------------


def test_twenty_bookings_of_one_slot_at_once_make_one_visit(
    iotex, make_organization, form_client, technician
):
    clients = [
        client_of(
            iotex, make_organization, form_client, f"Client {n}", f"owner{n}@c.example", "premium"
        )
        for n in range(20)
    ]
    prepared = []
    for forms in clients:
        page = new_page()
        prepared.append((forms, forms.token(page), key_of(forms, page)))
    barrier = threading.Barrier(len(prepared))
    codes = [None] * len(prepared)

    def run(index, forms, token, key):
        barrier.wait()
        codes[index] = forms.client.post(
            "/visits",
            data={
                "csrf_token": token,
                "hours": "4",
                "region": "area",
                "when": NEXT_SATURDAY,
                "address": ADDRESS,
                "purpose": PURPOSE,
                "submission": key,
                "accepted_total": "",
            },
        ).status_code

    threads = [threading.Thread(target=run, args=(i, *p)) for i, p in enumerate(prepared)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [303] + [409] * 19
    live = visits(iotex)
    assert len(live) == 1 and live[0].status == "booked"


def test_back_to_back_blocks_both_stand_and_an_overlapping_one_is_refused(
    iotex, premium, technician
):
    """Staff may place a visit at any time: 09-13 and 13-17 both stand, 11-15 does not. On
    PostgreSQL the exclusion constraint itself refuses the overlap, even written directly."""
    assert book(premium, when=NEXT_SATURDAY).status_code == 303
    assert book(premium, when=NEXT_SATURDAY_AFTERNOON, accept="y").status_code in (303, 409)
    with iotex.app_context():
        booked = [
            (v.starts_at, v.ends_at)
            for v in db.session.scalars(sa.select(Visit).where(Visit.status == "booked"))
        ]
        assert len(booked) == 2 and booked[0][1] == booked[1][0]
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(sa.exc.IntegrityError, match="ex_visits_no_overlap"):
                db.session.execute(
                    sa.update(Visit)
                    .where(Visit.starts_at == booked[1][0])
                    .values(starts_at=booked[1][0] - timedelta(hours=2))
                )
                db.session.flush()
            db.session.rollback()
        else:
            # SQLite has no exclusion constraint: the use case's check under its write lock.
            from portal.catalog.current import current_catalog
            from portal.visits.booking import VisitError, assign_visit

            extra = Visit(
                catalog="iotex",
                organization_id=premium.org.id,
                kind="asap",
                status="requested",
                hours=4,
                region="area",
                address=ADDRESS,
                purpose=PURPOSE,
                uid="overlap@test",
                created_at=NOW,
                updated_at=NOW,
            )
            db.session.add(extra)
            db.session.commit()
            with pytest.raises(VisitError) as raised:
                assign_visit(
                    db.session,
                    extra.id,
                    technician,
                    booked[0][0] + timedelta(hours=2),
                    catalog=current_catalog(),
                    now=NOW,
                )
            assert raised.value.code == "slot_taken"


# --- mistakes and access ---------------------------------------------------------------------

MISTAKES = {
    "no address": ({"address": ""}, 422, "Give the address the technician comes to."),
    "no purpose": ({"purpose": ""}, 422, "Say what the technician is to do."),
    "no time chosen": ({"when": ""}, 422, "Choose a time for the visit."),
    "a time that is no block": ({"when": "2026-12-19T10:00:00+03:30"}, 409, "just taken"),
    "a time in the past": ({"when": "2026-12-05T09:00:00+03:30"}, 409, "just taken"),
    "someone else's ticket": ({"ticket_id": "999999"}, 422, "Choose one of your tickets"),
    "a ticket number past any row": ({"ticket_id": "9" * 30}, 422, "Choose one of your tickets"),
    "a time in the year 1": ({"when": "0001-01-01T00:00:00+05:00"}, 422, "Choose a time"),
    "a time in the year 9999": ({"when": "9999-12-31T23:00:00-05:00"}, 422, "Choose a time"),
    "a periodic visit as soon as possible": (
        {"when": "asap", "periodic": "1"},
        422,
        "Choose a time for the visit.",
    ),
}


@pytest.mark.parametrize(("changes", "status", "message"), MISTAKES.values(), ids=MISTAKES)
def test_mistakes_are_refused_beside_what_is_wrong(iotex, premium, changes, status, message):
    response = book(premium, **changes)
    assert response.status_code == status
    assert message in visible_text(response.get_data(as_text=True))
    assert visits(iotex) == []


def test_another_organizations_visit_is_not_found(iotex, premium, standard):
    assert book(premium).status_code == 303
    (visit,) = visits(iotex)
    for path in (f"/visits/{visit.id}", f"/visits/{visit.id}.ics", f"/visits/{visit.id}/move"):
        assert standard.client.get(path).status_code == 404
    assert standard.submit("/visits", f"/visits/{visit.id}/cancel").status_code == 404


def test_only_staff_see_technicians_and_day_plans(iotex, premium):
    for path in ("/staff/visits", "/staff/technicians", "/staff/visits/1"):
        assert premium.client.get(path).status_code == 404


def test_the_calendar_file_downloads(iotex, premium):
    assert book(premium).status_code == 303
    (visit,) = visits(iotex)
    response = premium.client.get(f"/visits/{visit.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = event_of(icalendar.Calendar.from_ical(response.data))
    assert str(event["UID"]) == visit.uid


def test_catalogs_without_visits_have_no_visit_pages(app, make_organization, form_client):
    org = make_organization("Acme", "owner@acme.example")
    forms = form_client(app.test_client())
    forms.sign_in(org.owner.email)
    assert forms.client.get("/visits").status_code == 404
    assert forms.client.get("/visits/new").status_code == 404


def test_the_week_and_the_day_plan_cost_the_same_queries_with_more_visits_booked(
    iotex, premium, standard, desk_iotex, technician, make_user
):
    from tests.web.test_lists import counting

    with iotex.app_context():
        for n in range(3):
            user = make_user(f"tech{n}@iotex.example", role="staff", name=f"Tech {n}")
            db.session.add(
                Technician(user_id=user.id, catalog="iotex", region="area", created_at=NOW)
            )
        db.session.commit()

    def statements(forms, path):
        forms.client.get(path)
        with counting(iotex) as seen:
            assert forms.client.get(path).status_code == 200
        return len(seen)

    pages = [
        (premium, new_page()),
        (premium, "/visits"),
        (desk_iotex, "/staff/visits?day=2026-12-19"),
    ]
    assert book(premium).status_code == 303
    before = [statements(forms, path) for forms, path in pages]
    for when in (NEXT_SATURDAY, NEXT_SATURDAY_AFTERNOON, "2026-12-20T09:00:00+03:30"):
        for forms in (standard, premium):
            book(forms, when=when, accept="y")
    assert len(visits(iotex)) > 4
    after = [statements(forms, path) for forms, path in pages]
    assert after == before


# --- contract years --------------------------------------------------------------------------


def test_a_visit_counts_against_the_contract_year_it_falls_in(
    iotex, make_organization, form_client, technician
):
    # A two-year period from 20 December 2025: its second year starts on 20 December 2026.
    org = make_organization("Dara Co", "owner@dara.example", language="fa", timezone="Asia/Tehran")
    with iotex.app_context():
        give_plan(
            db.session, org.id, "premium", date(2025, 12, 20), date(2027, 12, 19), "iotex", "2y"
        )
    forms = form_client(iotex.test_client())
    forms.client.set_cookie("lang", "en")
    forms.sign_in(org.owner.email)
    assert book(forms, hours=8, when=NEXT_SATURDAY).status_code == 303
    assert book(forms, hours=8, when="2026-12-20T09:00:00+03:30").status_code == 303
    first, second = visits(iotex)
    assert (first.year_start, second.year_start) == (date(2025, 12, 20), date(2026, 12, 20))
    assert first.covered_hours == second.covered_hours == 8
    page = visible_text(forms.client.get("/visits").get_data(as_text=True))
    assert "4 of 12 h left" in page and "contract year to 19 December 2026" in page


# --- iiko's planned visits -------------------------------------------------------------------


@pytest.fixture
def iiko(make_app, outbox):
    app = make_app(PORTAL_CATALOG="iiko", OUTBOX_DIR=str(outbox))
    app.config["CLOCK"] = lambda: datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    return app


def test_staff_plan_a_maintenance_visit_the_client_sees_it_and_asks_to_move_it(
    iiko, make_organization, make_user, form_client, mails
):
    contract = make_organization("Кафе Ромашка", "owner@romashka.example", language="ru")
    one_off = make_organization("Бар Лайм", "owner@laim.example", language="ru")
    tech = make_user("ivan@iiko.example", role="staff", name="Иван")
    with iiko.app_context():
        give_plan(db.session, contract.id, "contract", *PERIOD, catalog="iiko")
        give_plan(db.session, one_off.id, "one-off", *PERIOD, catalog="iiko")
        row = Technician(user_id=tech.id, catalog="iiko", region="area", created_at=NOW)
        db.session.add(row)
        db.session.commit()
        technician_id = row.id
    desk = form_client(iiko.test_client())
    desk.client.set_cookie("lang", "en")
    desk.sign_in(make_user("desk@iiko.example", role="staff", name="Desk").email)
    planned = {
        "technician_id": str(technician_id),
        "day": "2026-12-09",
        "start": "10:00",
        "hours": "3",
        "address": "Москва, ул. Тверская, 1",
        "purpose": "Диагностика кассового оборудования",
    }
    refused = desk.submit(
        "/staff/visits", "/staff/visits/planned", {**planned, "organization_id": str(one_off.id)}
    )
    assert refused.status_code == 422
    assert "plan includes no planned visits" in visible_text(refused.get_data(as_text=True))
    made = desk.submit(
        "/staff/visits", "/staff/visits/planned", {**planned, "organization_id": str(contract.id)}
    )
    assert made.status_code == 303
    (visit,) = visits(iiko)
    assert (visit.kind, visit.status, visit.hours) == ("planned", "booked", 3)
    assert calendar_files(mails, "owner@romashka.example")

    client = form_client(iiko.test_client())
    client.client.set_cookie("lang", "en")
    client.sign_in(contract.owner.email)
    assert "Planned visit" in visible_text(client.client.get("/visits").get_data(as_text=True))
    page = visible_text(client.client.get(f"/visits/{visit.id}").get_data(as_text=True))
    assert "planned by the provider" in page
    assert client.submit(f"/visits/{visit.id}", f"/visits/{visit.id}/cancel").status_code == 409
    asked = client.submit(
        f"/visits/{visit.id}", f"/visits/{visit.id}/change", {"change": "Лучше в пятницу."}
    )
    assert asked.status_code == 303
    day = visible_text(desk.client.get("/staff/visits").get_data(as_text=True))
    assert "Clients asking for a change" in day and "Лучше в пятницу." in day
    assert client.client.get("/visits/new").status_code == 404


def test_a_booking_that_postgresql_fails_to_break_a_deadlock_is_offered_the_nearest(
    iotex, premium, monkeypatch
):
    """Bookings of one block at once may deadlock on the exclusion constraint; the one
    PostgreSQL fails is answered as the loser of the slot, never with an error page."""
    from sqlalchemy.orm import Session

    class Deadlock(Exception):
        sqlstate = "40P01"

    real_flush = Session.flush

    def flush(self, *args, **kwargs):
        if any(isinstance(row, Visit) for row in self.new):
            raise sa.exc.OperationalError("INSERT INTO visits", {}, Deadlock())
        return real_flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", flush)
    response = book(premium)
    assert response.status_code == 409
    assert "This time was just taken" in visible_text(response.get_data(as_text=True))
    monkeypatch.undo()
    assert visits(iotex) == []
