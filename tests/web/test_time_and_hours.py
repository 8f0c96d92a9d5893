"""Work time as a KBS client and staff see it, on both databases.

The Done-means walk of issue 11 first: an OPTIMA client's ticket gets 4 logged hours, the
account shows 3 of 3 included hours used and 1 extra hour at 1 500 UAH, the month-end
order charges it once; a 5-hour bundle bought for 6 900 then pays for next month's hours
beyond the included ones. Then the month boundaries, late time, connections and access.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Document, HourCredit, Order, TimeEntry, TimeSettlement
from tests.seed import give_plan
from tests.web.conftest import visible_text

PERIOD = (date(2026, 11, 1), date(2027, 10, 31))
NOVEMBER = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DECEMBER_FIRST = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def at(app, moment: datetime) -> None:
    app.config["CLOCK"] = lambda: moment


@pytest.fixture
def acme(app, make_organization):
    org = make_organization("Acme", "owner@acme.example", members=["member@acme.example"])
    with app.app_context():
        give_plan(db.session, org.id, "optima", *PERIOD)
    return org


@pytest.fixture
def owner(app, form_client, acme):
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(acme.owner.email).status_code == 303
    return forms


def file_ticket(forms) -> int:
    html = forms.client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "title": "Cannot close the month",
        "description": "The closing fails.",
        "category": "support",
        "submission": key,
    }
    response = forms.submit("/tickets/new", "/tickets", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def log_on_ticket(desk, ticket: int, duration: str, worked_on: str = "", billable=True):
    page = f"/tickets/{ticket}?lang=en"
    html = desk.client.get(page).get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html.split('class="time-form"')[1])
    data = {
        "duration": duration,
        "worked_on": worked_on,
        "description": "Fixed the closing",
        "submission": key.group(1),
    }
    if billable:
        data["billable"] = "y"
    return desk.submit(page, f"/staff/tickets/{ticket}/time?lang=en", data)


def meter(forms) -> dict:
    html = forms.client.get("/account?lang=en").get_data(as_text=True)
    found = re.search(r'<div class="time-meter"([^>]*)>', html).group(1)
    return {k: int(v) for k, v in re.findall(r'data-([a-z-]+)="(\d+)"', found)}, visible_text(html)


def month_end(app):
    result = app.test_cli_runner().invoke(args=["work", "month-end"])
    assert result.exit_code == 0, result.output
    return result.output


def rows(app, model):
    with app.app_context():
        return list(db.session.scalars(sa.select(model).order_by(model.id)))


# --- Done means -------------------------------------------------------------------------------


def test_optima_4_hours_are_3_included_and_1_extra_charged_once_then_a_bundle_pays_for_more(
    app, acme, owner, desk
):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    assert log_on_ticket(desk, ticket, "4").status_code == 303

    figures, text = meter(owner)
    assert figures == {"included": 180, "included-used": 180, "prepaid-left": 0, "extra": 60}
    assert "3 of 3 h used, 0 h left" in text
    assert "1,500.00 UAH at today's prices" in text
    ticket_page = visible_text(owner.client.get(f"/tickets/{ticket}?lang=en").get_data(True))
    assert "Logged on this ticket: 4 h" in ticket_page

    at(app, DECEMBER_FIRST)
    assert "1 charged extra time" in month_end(app)
    assert "0 organization(s) settled" in month_end(app)  # run twice: nothing new
    (order,) = [o for o in rows(app, Order) if o.kind == "time"]
    assert (order.total, order.currency, order.status) == (
        Decimal("1500.00"),
        "UAH",
        "pending_payment",
    )
    (invoice,) = [d for d in rows(app, Document) if d.order_id == order.id]
    assert invoice.kind == "invoice" and invoice.total == Decimal("1500.00")
    order_page = visible_text(owner.client.get(f"/orders/{order.id}?lang=en").get_data(True))
    assert "Extra specialist time, November 2026" in order_page

    # A bundle of five hours bought in advance, paid by bank transfer.
    time_page = owner.client.get("/account/time?lang=en").get_data(as_text=True)
    assert 'data-total="6900.00"' in time_page
    bought = owner.submit(
        "/account/time", "/account/hours", {"hours": "5", "seen_total": "6900.00"}
    )
    assert bought.status_code == 303
    bundle = int(bought.headers["Location"].rsplit("/", 1)[-1])
    assert owner.submit(f"/orders/{bundle}", f"/orders/{bundle}/invoice").status_code == 303
    (bundle_invoice,) = [d for d in rows(app, Document) if d.order_id == bundle]
    assert bundle_invoice.total == Decimal("6900.00")
    paid = desk.submit("/staff/invoices", f"/staff/invoices/{bundle_invoice.id}/paid")
    assert paid.status_code == 303
    assert [c.minutes for c in rows(app, HourCredit)] == [300]

    # December: 6 hours use the 3 included and 3 of the prepaid, leaving 2.
    at(app, datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    assert log_on_ticket(desk, ticket, "6", worked_on="2026-12-04").status_code == 303
    figures, text = meter(owner)
    assert figures == {"included": 180, "included-used": 180, "prepaid-left": 120, "extra": 0}
    assert "Prepaid hours left 2 h" in text

    at(app, datetime(2027, 1, 1, 6, 0, tzinfo=UTC))
    assert "0 charged extra time" in month_end(app)
    assert sum(c.minutes for c in rows(app, HourCredit)) == 120


# --- the month-end arithmetic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("logged", "total", "lines"),
    [
        ("10", "9900.00", {"hours-bundle-5": "6900.00", "hours": "3000.00"}),  # 7 extra
        ("7", "6000.00", {"hours": "6000.00"}),  # 4 extra: cheaper than a bundle
        ("3:30", "1500.00", {"hours": "1500.00"}),  # 30 minutes extra: the whole hour
        ("3", None, {}),  # all included: no order
    ],
    ids=[
        "7 extra hours are a bundle and 2 hours",
        "4 extra hours are 4 single hours",
        "half an hour extra is charged as the hour KBS sells",
        "time within the included hours orders nothing",
    ],
)
def test_month_end_prices_the_extra_time_with_the_cheapest_mix(
    app, acme, owner, desk, logged, total, lines
):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    log_on_ticket(desk, ticket, logged)
    at(app, DECEMBER_FIRST)
    month_end(app)
    orders = [o for o in rows(app, Order) if o.kind == "time"]
    if total is None:
        assert orders == []
        (settlement,) = rows(app, TimeSettlement)
        assert settlement.extra_minutes == 0
        return
    (order,) = orders
    assert str(order.total) == total
    import json

    assert {line["code"]: line["amount"] for line in json.loads(order.lines)} == lines


def test_time_logged_late_goes_into_the_next_months_order_not_lost(app, acme, owner, desk):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    log_on_ticket(desk, ticket, "4")
    at(app, DECEMBER_FIRST)
    month_end(app)
    # Two more hours of November, logged after its order.
    at(app, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    log_on_ticket(desk, ticket, "2", worked_on="2026-11-30")
    _figures, text = meter(owner)
    assert "Extra time of earlier months waiting to be charged: 2 h." in text
    at(app, datetime(2027, 1, 1, 6, 0, tzinfo=UTC))
    month_end(app)
    orders = [o for o in rows(app, Order) if o.kind == "time"]
    assert [str(o.total) for o in orders] == ["1500.00", "3000.00"]
    assert all(e.settlement_id is not None for e in rows(app, TimeEntry))


def test_a_period_that_starts_mid_month_gives_that_month_its_included_hours(
    app, make_organization, form_client, desk
):
    org = make_organization("Late", "owner@late.example")
    with app.app_context():
        give_plan(db.session, org.id, "premium", date(2026, 11, 20), date(2027, 11, 19))
    forms = form_client(app.test_client())
    forms.sign_in(org.owner.email)
    at(app, NOVEMBER)
    ticket = file_ticket(forms)
    log_on_ticket(desk, ticket, "5")
    figures, _ = meter(forms)
    assert figures["included"] == 360 and figures["extra"] == 0


def test_time_before_a_period_begins_is_extra_and_after_it_uses_the_new_month(
    app, make_organization, form_client, desk
):
    org = make_organization("Edge", "owner@edge.example")
    with app.app_context():
        give_plan(db.session, org.id, "optima", date(2026, 11, 1), date(2026, 11, 30))
        give_plan(db.session, org.id, "prof", date(2026, 12, 1), date(2027, 11, 30))
    forms = form_client(app.test_client())
    forms.sign_in(org.owner.email)
    at(app, NOVEMBER)
    ticket = file_ticket(forms)
    log_on_ticket(desk, ticket, "2")
    at(app, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    log_on_ticket(desk, ticket, "1", worked_on="2026-12-02")
    figures, _ = meter(forms)
    # December is PROF's: no included hours; November's 2 hours were within OPTIMA's 3.
    assert figures["included"] == 0 and figures["extra"] == 60


def test_time_not_billed_is_shown_and_never_charged(app, acme, owner, desk):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    log_on_ticket(desk, ticket, "5", billable=False)
    figures, _ = meter(owner)
    assert figures["included-used"] == 0
    at(app, DECEMBER_FIRST)
    month_end(app)
    assert [o for o in rows(app, Order) if o.kind == "time"] == []


# --- staff's form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "worked_on", "error"),
    [
        ("", "", "Say how long the work took."),
        ("soon", "", "soon is not a duration: write 1.5, 1:30 or 90m"),
        ("25", "", "Time is between 1 minute and 24 hours"),
        ("1", "2026-11-30", "Work is logged once it is done"),
        ("1", "30.11.2026x", "not a date"),
    ],
    ids=["no duration", "words", "more than a day", "a day to come", "a day that is no date"],
)
def test_a_mistake_in_logged_time_is_refused_beside_its_field(
    app, acme, owner, desk, page, duration, worked_on, error
):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    response = log_on_ticket(desk, ticket, duration, worked_on=worked_on)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error in visible_text(html)
    assert rows(app, TimeEntry) == []


def test_the_same_time_form_sent_twice_logs_once(app, acme, owner, desk):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    page = f"/tickets/{ticket}?lang=en"
    html = desk.client.get(page).get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html.split('class="time-form"')[1])
    data = {"duration": "1", "description": "Once", "billable": "y", "submission": key.group(1)}
    for _ in range(2):
        assert desk.submit(page, f"/staff/tickets/{ticket}/time", data).status_code == 303
    assert len(rows(app, TimeEntry)) == 1


def test_only_staff_log_time_and_clients_see_no_staff_form(app, acme, owner, desk):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    html = owner.client.get(f"/tickets/{ticket}").get_data(as_text=True)
    assert 'class="time-form"' not in html
    refused = owner.submit(f"/tickets/{ticket}", f"/staff/tickets/{ticket}/time", {"duration": "1"})
    assert refused.status_code == 404


# --- connections -------------------------------------------------------------------------------


def test_profs_third_connection_in_a_month_is_offered_as_paid_time(
    app, make_organization, form_client
):
    org = make_organization("Prof", "owner@prof.example")
    with app.app_context():
        give_plan(db.session, org.id, "prof", *PERIOD)
    forms = form_client(app.test_client())
    forms.client.set_cookie("lang", "en")
    forms.sign_in(org.owner.email)
    at(app, NOVEMBER)
    ticket = file_ticket(forms)
    for _ in range(2):
        asked = forms.submit(f"/tickets/{ticket}", f"/tickets/{ticket}/connection")
        assert asked.status_code == 303
    html = visible_text(forms.client.get(f"/tickets/{ticket}").get_data(as_text=True))
    assert "Another one is paid as specialist time: 1,500.00 UAH an hour." in html
    refused = forms.submit(f"/tickets/{ticket}", f"/tickets/{ticket}/connection")
    followed = visible_text(forms.client.get(refused.headers["Location"]).get_data(True))
    assert "Tick the box to agree to pay for it." in followed
    agreed = forms.submit(f"/tickets/{ticket}", f"/tickets/{ticket}/connection", {"agree": "y"})
    assert agreed.status_code == 303
    from portal.models import RemoteConnection

    assert [c.paid for c in rows(app, RemoteConnection)] == [False, False, True]
    _, text = meter(forms)
    assert "2 of 2 free connections used, 1 paid" in text


def test_an_unlimited_plan_counts_connections_and_never_limits(app, acme, owner):
    at(app, NOVEMBER)
    ticket = file_ticket(owner)
    for _ in range(3):
        owner.submit(f"/tickets/{ticket}", f"/tickets/{ticket}/connection")
    _, text = meter(owner)
    assert "Remote connections this month 3, no limit" in text


# --- a fixed number of queries, and two at once ---------------------------------------------


def test_the_account_and_time_pages_cost_the_same_queries_with_more_time_logged(
    app, acme, owner, desk
):
    from tests.web.test_lists import counting

    at(app, NOVEMBER)
    ticket = file_ticket(owner)

    def statements(path):
        owner.client.get(path)
        with counting(app) as seen:
            assert owner.client.get(path).status_code == 200
        return len(seen)

    log_on_ticket(desk, ticket, "1")
    before = {p: statements(p) for p in ("/account", "/account/time", f"/tickets/{ticket}")}
    with app.app_context():
        db.session.execute(
            sa.insert(TimeEntry),
            [
                {
                    "organization_id": acme.id,
                    "catalog": "kbs",
                    "ticket_id": ticket,
                    "worked_on": date(2026, 11, 1 + n % 22),
                    "minutes": 10,
                    "description": "More work",
                    "billable": True,
                    "created_at": NOVEMBER,
                }
                for n in range(120)
            ],
        )
        db.session.commit()
    after = {p: statements(p) for p in before}
    assert after == before


def test_two_connections_asked_at_once_at_the_limit_count_one_after_the_other(
    app, make_organization, form_client
):
    import threading

    from portal.models import RemoteConnection

    org = make_organization("Prof", "owner@prof.example")
    with app.app_context():
        give_plan(db.session, org.id, "prof", *PERIOD)
    at(app, NOVEMBER)
    browsers = []
    for _ in range(2):
        forms = form_client(app.test_client())
        forms.sign_in(org.owner.email)
        browsers.append(forms)
    ticket = file_ticket(browsers[0])
    assert browsers[0].submit(f"/tickets/{ticket}", f"/tickets/{ticket}/connection").status_code
    tokens = [b.token(f"/tickets/{ticket}") for b in browsers]
    barrier = threading.Barrier(2)

    def ask(index):
        barrier.wait()
        browsers[index].client.post(
            f"/tickets/{ticket}/connection", data={"csrf_token": tokens[index]}
        )

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The second free connection went to one click; the other needed the consent to pay.
    assert [c.paid for c in rows(app, RemoteConnection)] == [False, False]


def test_two_month_end_runs_at_once_settle_each_organization_once(app, acme, owner, desk):
    import threading

    from portal.work.jobs import run_month_end

    at(app, NOVEMBER)
    log_on_ticket(desk, file_ticket(owner), "5")
    at(app, DECEMBER_FIRST)
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            barrier.wait()
            run_month_end()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rows(app, TimeSettlement)) == 1
    assert len([o for o in rows(app, Order) if o.kind == "time"]) == 1
    from portal.models import Act

    assert len(rows(app, Act)) == 1
