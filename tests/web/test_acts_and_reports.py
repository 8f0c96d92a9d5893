"""Acts of completed work and the monthly report, on both databases.

A KBS client's month with extra time gets an act (ACT-000001, in Ukrainian, with VAT as the
provider's profile says), mailed with its PDF once; an iiko contract with the
``monthly-report`` unit gets last month's report mailed to the owner's recipients on the
first working day, once; its page shows the figures of a month of tickets, with a chart
drawn as SVG and a CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Act, Order, ReportMailing
from tests.seed import give_plan
from tests.web.conftest import visible_text

PERIOD = (date(2026, 11, 1), date(2027, 10, 31))


def at(app, moment: datetime) -> None:
    app.config["CLOCK"] = lambda: moment


def rows(app, model):
    with app.app_context():
        return list(db.session.scalars(sa.select(model).order_by(model.id)))


def file_ticket(forms, **fields) -> int:
    html = forms.client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    data = {"title": "The till is down", "description": "It stopped.", "category": "support"}
    response = forms.submit("/tickets/new", "/tickets", {**data, "submission": key, **fields})
    assert response.status_code == 303, visible_text(response.get_data(as_text=True))[:500]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def log(desk, ticket: int, duration: str):
    page = f"/tickets/{ticket}"
    html = desk.client.get(page).get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html.split('class="time-form"')[1])
    data = {"duration": duration, "description": "Work", "billable": "y"}
    return desk.submit(page, f"/staff/tickets/{ticket}/time", {**data, "submission": key[1]})


# --- acts --------------------------------------------------------------------------------------


def test_a_month_with_extra_time_gets_one_act_mailed_with_its_pdf(
    app, make_organization, form_client, desk, mails
):
    org = make_organization("Acme", "owner@acme.example")
    with app.app_context():
        give_plan(db.session, org.id, "optima", *PERIOD)
    owner = form_client(app.test_client())
    owner.sign_in(org.owner.email)
    at(app, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    log(desk, file_ticket(owner), "5")
    at(app, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["work", "month-end"]).output
    assert "1 act(s)" in first
    assert "0 act(s)" in runner.invoke(args=["work", "month-end"]).output
    (act,) = rows(app, Act)
    # The plan's period began in November and was paid (40 740), and 2 hours were extra.
    assert (act.number, act.month, str(act.total)) == ("ACT-000001", date(2026, 11, 1), "43740.00")
    plan, extra = rows(app, Order)
    assert [item["order"] for item in json.loads(act.lines)["orders"]] == [plan.id, extra.id]
    act_mails = [m for m in mails() if "ACT-000001" in m["Subject"]]
    assert len(act_mails) == 1
    assert act_mails[0]["Subject"].startswith("Акт виконаних робіт ACT-000001, листопад 2026")
    (pdf,) = [p for p in act_mails[0].iter_attachments()]
    assert pdf.get_content_type() == "application/pdf"
    account = owner.client.get("/account?lang=en").get_data(as_text=True)
    assert "Act ACT-000001, November 2026" in visible_text(account)
    got = owner.client.get(f"/acts/{act.id}.pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    listed = owner.client.get("/account/acts?lang=en").get_data(as_text=True)
    assert 'data-act="ACT-000001"' in listed


def test_another_organizations_act_is_not_found(app, make_organization, form_client, desk):
    org = make_organization("Acme", "owner@acme.example")
    with app.app_context():
        give_plan(db.session, org.id, "optima", *PERIOD)
    owner = form_client(app.test_client())
    owner.sign_in(org.owner.email)
    at(app, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    log(desk, file_ticket(owner), "4")
    at(app, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    app.test_cli_runner().invoke(args=["work", "month-end"])
    (act,) = rows(app, Act)
    other = make_organization("Other", "owner@other.example")
    stranger = form_client(app.test_client())
    stranger.sign_in(other.owner.email)
    assert stranger.client.get(f"/acts/{act.id}.pdf").status_code == 404
    assert desk.client.get(f"/acts/{act.id}.pdf").status_code == 200


def test_a_month_with_nothing_paid_has_no_act(app, make_organization, form_client, desk):
    org = make_organization("Acme", "owner@acme.example")
    with app.app_context():  # a period bought before November
        give_plan(db.session, org.id, "optima", date(2026, 10, 1), date(2027, 9, 30))
    owner = form_client(app.test_client())
    owner.sign_in(org.owner.email)
    at(app, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    log(desk, file_ticket(owner), "2")  # within the included hours
    at(app, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    assert "0 act(s)" in app.test_cli_runner().invoke(args=["work", "month-end"]).output


def test_the_month_end_refuses_a_month_not_over(app):
    at(app, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    result = app.test_cli_runner().invoke(args=["work", "month-end", "--month", "2026-11"])
    assert result.exit_code != 0 and "2026-11 is not over yet" in result.output
    result = app.test_cli_runner().invoke(args=["work", "month-end", "--month", "November"])
    assert result.exit_code != 0 and "not a month" in result.output


# --- the monthly report ------------------------------------------------------------------------


@pytest.fixture
def iiko(make_app, outbox):
    return make_app(PORTAL_CATALOG="iiko", OUTBOX_DIR=str(outbox))


@pytest.fixture
def cafe(iiko, make_organization, form_client):
    org = make_organization("Cafe", "owner@cafe.example", language="ru", timezone="Asia/Omsk")
    with iiko.app_context():
        give_plan(db.session, org.id, "contract", *PERIOD, catalog="iiko")
        order = db.session.scalars(sa.select(Order).where(Order.organization_id == org.id)).one()
        params = {"plan": "contract", "term": "12m", "qty.workstation": "2"}
        params["qty.monthly-report"] = "1"
        order.request = json.dumps({"params": params})
        db.session.commit()
    forms = form_client(iiko.test_client())
    forms.client.set_cookie("lang", "en")
    forms.sign_in(org.owner.email)
    return forms


def test_a_month_of_tickets_is_reported_with_a_chart_and_a_csv(iiko, cafe, make_user, form_client):
    staff = make_user("agent@example.com", role="staff")
    desk = form_client(iiko.test_client())
    desk.sign_in(staff.email)
    at(iiko, datetime(2026, 11, 10, 4, 0, tzinfo=UTC))  # 10:00 in Omsk
    first = file_ticket(cafe, target="blocking")
    second = file_ticket(cafe, target="important")
    at(iiko, datetime(2026, 11, 10, 5, 0, tzinfo=UTC))
    desk.submit(f"/tickets/{first}", f"/tickets/{first}/replies", {"body": "On it."})
    at(iiko, datetime(2026, 11, 10, 7, 0, tzinfo=UTC))
    desk.submit(f"/tickets/{second}", f"/tickets/{second}/replies", {"body": "Looking."})
    at(iiko, datetime(2026, 12, 2, 4, 0, tzinfo=UTC))
    page = cafe.client.get("/reports/2026-11").get_data(as_text=True)
    text = visible_text(page)
    assert "Report for November 2026" in text
    assert re.search(r'data-testid="tickets">2<', page)
    assert re.search(r'data-testid="median">2 h<', page)  # 1 h and 3 h
    assert 'src="/reports/2026-11/chart.svg"' in page
    chart = cafe.client.get("/reports/2026-11/chart.svg")
    assert chart.headers["Content-Type"].startswith("image/svg+xml")
    assert "script-src" not in chart.headers["Content-Security-Policy"]
    assert b"<svg" in chart.data and b"<script" not in chart.data
    exported = cafe.client.get("/reports/2026-11.csv")
    table = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert ["Tickets", "Opened", "2"] in table
    assert ["Median first response", "minutes", "120"] in table
    assert cafe.client.get("/reports/2027-05").status_code == 404  # a month to come
    assert cafe.client.get("/reports/soon").status_code == 404


def test_the_report_is_mailed_to_the_recipients_on_the_first_working_day_once(iiko, cafe, mails):
    at(iiko, datetime(2026, 11, 20, 4, 0, tzinfo=UTC))
    file_ticket(cafe, target="important")
    for address in ("director@cafe.example", "manager@cafe.example"):
        added = cafe.submit(
            "/reports/2026-11", "/reports/recipients", {"email": address, "month": "2026-11"}
        )
        assert added.status_code == 303
    refused = cafe.submit("/reports/2026-11", "/reports/recipients", {"email": "not mail"})
    followed = visible_text(cafe.client.get(refused.headers["Location"]).get_data(True))
    assert "This is not an e-mail address." in followed
    runner = iiko.test_cli_runner()
    at(iiko, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert "0 monthly report(s)" in runner.invoke(args=["work", "reports"]).output
    at(iiko, datetime(2026, 12, 1, 4, 0, tzinfo=UTC))  # Tuesday 1 December, 10:00 in Omsk
    assert "1 monthly report(s)" in runner.invoke(args=["work", "reports"]).output
    assert "0 monthly report(s)" in runner.invoke(args=["work", "reports"]).output
    sent = [m for m in mails() if "ноябрь 2026" in m["Subject"] or "November" in m["Subject"]]
    assert sorted(m["To"] for m in sent) == ["director@cafe.example", "manager@cafe.example"]
    (csv_part,) = list(sent[0].iter_attachments())
    assert csv_part.get_filename() == "report-2026-11.csv"
    assert len(rows(iiko, ReportMailing)) == 1


def test_a_contract_without_the_report_unit_is_not_mailed(iiko, make_organization, form_client):
    org = make_organization("Bar", "owner@bar.example", language="ru", timezone="Asia/Omsk")
    with iiko.app_context():
        give_plan(db.session, org.id, "contract", *PERIOD, catalog="iiko")
    at(iiko, datetime(2026, 12, 1, 4, 0, tzinfo=UTC))
    assert "0 monthly report(s)" in iiko.test_cli_runner().invoke(args=["work", "reports"]).output


def test_only_the_owner_keeps_the_recipients(iiko, cafe, make_organization, form_client):
    with iiko.app_context():
        from portal.models import Organization

        org_id = db.session.scalars(sa.select(Organization.id)).first()
    at(iiko, datetime(2026, 12, 2, 4, 0, tzinfo=UTC))
    cafe.submit("/reports/2026-11", "/reports/recipients", {"email": "boss@cafe.example"})
    assert org_id
    # A member (not the owner) reads the report but cannot change who gets it.
    from portal.accounts import services as accounts
    from portal.clock import now
    from portal.models import User

    with iiko.app_context():
        owner = db.session.scalars(sa.select(User).where(User.email == "owner@cafe.example")).one()
        invitation, _ = accounts.invite(db.session, owner, "m@cafe.example", now(), max_age=3600)
        accounts.accept_invitation(
            db.session,
            invitation,
            name="M",
            password="correct horse battery",
            locale=None,
            now=now(),
        )
    member = form_client(iiko.test_client())
    member.sign_in("m@cafe.example")
    page = member.client.get("/reports/2026-11").get_data(as_text=True)
    assert "boss@cafe.example" not in page
    refused = member.submit("/reports/2026-11", "/reports/recipients", {"email": "x@cafe.example"})
    assert refused.status_code == 403
