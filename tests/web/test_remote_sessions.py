"""Kvartplata's paid remote sessions, ordered by a client and held by staff, on both databases.

The Done-means walk first: a direct session at a free time, 1.5 hours logged, an invoice
of 5 950 RUB (1.5 × 1 300 + the 4 000 connection fee); a second session of 20 minutes
costs 1 300. Then the database's decisions (one fee for two first sessions ordered at
once, one client per time), the backup's upload limits, mistakes and access.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import Document, Order, RemoteSession
from tests.web.conftest import visible_text

MONDAY = datetime(2026, 12, 7, 7, 20, tzinfo=UTC)  # 10:20 in Moscow
ELEVEN = "2026-12-07T11:00:00+03:00"
NOON = "2026-12-07T12:00:00+03:00"
NEW = "/sessions/new?service=remote-direct"
DESCRIPTION = "The December charges do not add up: the totals differ from last month."


@pytest.fixture
def kvartplata(make_app, outbox, tmp_path):
    app = make_app(
        PORTAL_CATALOG="kvartplata",
        OUTBOX_DIR=str(outbox),
        SESSION_FILES_DIR=str(tmp_path / "session-files"),
        SESSION_FILE_MAX_BYTES=1 * 2**20,
    )
    app.config["CLOCK"] = lambda: MONDAY
    app.files_folder = tmp_path / "session-files"
    return app


@pytest.fixture
def tenant(kvartplata, make_organization, form_client):
    org = make_organization(
        "ТСЖ Берёзка", "owner@berezka.example", language="ru", timezone="Europe/Moscow"
    )
    forms = form_client(kvartplata.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(org.owner.email).status_code == 303
    forms.org = org
    return forms


@pytest.fixture
def desk(kvartplata, make_user, form_client):
    account = make_user("consultant@example.com", role="staff", name="Ivan")
    forms = form_client(kvartplata.test_client())
    forms.client.set_cookie("lang", "en")
    assert forms.sign_in(account.email).status_code == 303
    return forms


def submission(forms, service: str) -> str:
    html = forms.client.get(f"/sessions/new?service={service}").get_data(as_text=True)
    return re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)


def order_direct(forms, starts_at=ELEVEN, **changes):
    data = {
        "service": "remote-direct",
        "starts_at": starts_at,
        "description": DESCRIPTION,
        "contact_phone": "+7 495 123-45-67",
        "backup_confirmed": "y",
        "consent": "y",
        "submission": submission(forms, "remote-direct"),
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return forms.submit("/sessions/new?service=remote-direct", "/sessions?lang=en", data)


def order_backup(forms, content: bytes, name="base.bak", lang="en", **changes):
    fields = MultiDict(
        {
            "csrf_token": forms.token("/sessions/new?service=remote-backup"),
            "service": "remote-backup",
            "description": DESCRIPTION,
            "contact_phone": "+7 495 123-45-67",
            "consent": "y",
            "submission": submission(forms, "remote-backup"),
            **changes,
        }
    )
    fields.add("backup", FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(fields)
    return forms.client.post(
        f"/sessions?lang={lang}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def session_id(response) -> int:
    assert response.status_code == 303, visible_text(response.get_data(as_text=True))[:600]
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def log(desk, number: int, duration: str):
    page = f"/staff/sessions/{number}"
    html = desk.client.get(page).get_data(as_text=True)
    key = re.search(r'name="submission"[^>]*value="([^"]+)"', html).group(1)
    data = {"duration": duration, "description": "Fixed the charges", "billable": "y"}
    return desk.submit(page, f"{page}/time", {**data, "submission": key})


def close(desk, number: int):
    return desk.submit(f"/staff/sessions/{number}", f"/staff/sessions/{number}/complete")


def rows(app, model):
    with app.app_context():
        return list(db.session.scalars(sa.select(model).order_by(model.id)))


# --- Done means -------------------------------------------------------------------------------


def test_a_direct_session_for_a_free_time_costs_5950_and_a_second_of_20_minutes_1300(
    kvartplata, tenant, desk, mails
):
    form = tenant.client.get("/sessions/new?service=remote-direct").get_data(as_text=True)
    assert f'value="{ELEVEN}"' in form  # 10:20 now: the next working hour
    assert "5,300.00 RUB" in visible_text(form)  # an hour and the one-time fee, as a guide
    first = session_id(order_direct(tenant))
    page = visible_text(tenant.client.get(f"/sessions/{first}").get_data(as_text=True))
    assert "Booked for 7 December 2026" in page and "11:00" in page

    day = visible_text(desk.client.get("/staff/sessions?day=2026-12-07").get_data(as_text=True))
    assert "ТСЖ Берёзка" in day
    assert log(desk, first, "1.5").status_code == 303
    assert close(desk, first).status_code == 303
    (order,) = rows(kvartplata, Order)
    assert (order.kind, order.total, order.currency) == ("session", Decimal("5950.00"), "RUB")
    (invoice,) = rows(kvartplata, Document)
    assert invoice.kind == "invoice" and invoice.total == Decimal("5950.00")
    shown = visible_text(tenant.client.get(f"/sessions/{first}").get_data(as_text=True))
    assert "The invoice: 5,950.00 RUB" in shown
    assert any("5 950,00" in m["Subject"] for m in mails())

    second = session_id(order_direct(tenant, starts_at=NOON))
    log(desk, second, "20m")
    close(desk, second)
    assert [o.total for o in rows(kvartplata, Order)] == [Decimal("5950.00"), Decimal("1300.00")]
    assert close(desk, second).status_code == 303  # closed already: no second order
    assert len(rows(kvartplata, Order)) == 2


def test_a_backup_is_stored_streamed_to_disk_and_served_to_the_organization_and_staff(
    kvartplata, tenant, desk
):
    content = b"KVARTPLATA-BACKUP" + bytes(range(256)) * 2000
    number = session_id(order_backup(tenant, content))
    (row,) = rows(kvartplata, RemoteSession)
    assert (row.file_name, row.file_size, row.starts_at) == ("base.bak", len(content), None)
    assert (kvartplata.files_folder / row.stored_name).read_bytes() == content
    for forms in (tenant, desk):
        got = forms.client.get(f"/sessions/{number}/backup")
        assert got.status_code == 200 and got.data == content
        assert got.headers["Content-Disposition"].startswith("attachment")
        got.close()
    log(desk, number, "40m")
    close(desk, number)
    (order,) = rows(kvartplata, Order)
    assert order.total == Decimal("1300.00")  # the minimum hour, no connection fee


# --- the database decides -------------------------------------------------------------------


def at_once(*calls):
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_first_sessions_ordered_at_once_pay_the_fee_once(kvartplata, tenant, form_client):
    other = form_client(kvartplata.test_client())
    other.client.set_cookie("lang", "en")
    other.sign_in(tenant.org.owner.email)
    keys = [submission(tenant, "remote-direct"), submission(other, "remote-direct")]
    tokens = [tenant.token(NEW), other.token(NEW)]

    def order(forms, key, token, when):
        return forms.client.post(
            "/sessions",
            data={
                "csrf_token": token,
                "service": "remote-direct",
                "starts_at": when,
                "description": DESCRIPTION,
                "contact_phone": "+7 495 123-45-67",
                "backup_confirmed": "y",
                "consent": "y",
                "submission": key,
            },
        ).status_code

    codes = at_once(
        lambda: order(tenant, keys[0], tokens[0], ELEVEN),
        lambda: order(other, keys[1], tokens[1], NOON),
    )
    assert codes == [303, 303]
    assert sorted(r.carries_fee for r in rows(kvartplata, RemoteSession)) == [False, True]


def test_one_time_is_one_clients_and_the_other_is_offered_the_free_ones(
    kvartplata, tenant, make_organization, form_client
):
    rival = make_organization("ТСЖ Рябина", "owner@ryabina.example", language="ru")
    second = form_client(kvartplata.test_client())
    second.client.set_cookie("lang", "en")
    second.sign_in(rival.owner.email)
    keys = [submission(tenant, "remote-direct"), submission(second, "remote-direct")]
    tokens = [tenant.token(NEW), second.token(NEW)]

    def order(forms, key, token):
        return forms.client.post(
            "/sessions?lang=en",
            data={
                "csrf_token": token,
                "service": "remote-direct",
                "starts_at": ELEVEN,
                "description": DESCRIPTION,
                "contact_phone": "+7 495 123-45-67",
                "backup_confirmed": "y",
                "consent": "y",
                "submission": key,
            },
        )

    answers = at_once(
        lambda: order(tenant, keys[0], tokens[0]), lambda: order(second, keys[1], tokens[1])
    )
    assert sorted(a.status_code for a in answers) == [303, 409]
    (lost,) = [a for a in answers if a.status_code == 409]
    html = lost.get_data(as_text=True)
    assert "This time was just taken or has passed." in visible_text(html)
    assert f'value="{ELEVEN}"' not in html and f'value="{NOON}"' in html
    assert len(rows(kvartplata, RemoteSession)) == 1


def test_a_cancelled_session_frees_its_time_and_passes_the_fee_on(kvartplata, tenant):
    tomorrow = "2026-12-08T11:00:00+03:00"
    first = session_id(order_direct(tenant, starts_at=tomorrow))
    assert tenant.submit(f"/sessions/{first}", f"/sessions/{first}/cancel").status_code == 303
    again = session_id(order_direct(tenant, starts_at=tomorrow))  # free again
    by_id = {r.id: r for r in rows(kvartplata, RemoteSession)}
    assert (by_id[first].status, by_id[first].carries_fee) == ("cancelled", False)
    assert by_id[again].carries_fee


def test_a_session_starting_within_the_notice_is_not_cancelled_online(kvartplata, tenant):
    first = session_id(order_direct(tenant))
    kvartplata.config["CLOCK"] = lambda: datetime(2026, 12, 7, 7, 30, tzinfo=UTC)  # 10:30
    refused = tenant.submit(f"/sessions/{first}", f"/sessions/{first}/cancel")
    followed = visible_text(tenant.client.get(refused.headers["Location"]).get_data(True))
    assert "It is too late to cancel this session online: call us." in followed
    (row,) = rows(kvartplata, RemoteSession)
    assert row.status == "booked"


# --- the backup's limits --------------------------------------------------------------------


def test_a_backup_over_the_limit_is_refused_with_413_and_nothing_is_kept(kvartplata, tenant):
    response = order_backup(tenant, b"x" * (int(1.5 * 2**20)))
    assert response.status_code == 413
    assert "The file is larger than the 1 MB a backup may be." in visible_text(
        response.get_data(as_text=True)
    )
    assert rows(kvartplata, RemoteSession) == []
    assert not any(kvartplata.files_folder.glob("*"))


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read(kvartplata, tenant):
    response = order_backup(tenant, b"x" * (3 * 2**20), lang="ru")
    assert response.status_code == 413
    assert "не более 2 МБ" in visible_text(response.get_data(as_text=True))
    assert rows(kvartplata, RemoteSession) == []


# Werkzeug leaves the spool file of a part cut off midway to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_upload_cut_off_midway_is_refused_and_nothing_is_kept(kvartplata, tenant):
    fields = MultiDict(
        {
            "csrf_token": tenant.token("/sessions/new?service=remote-backup"),
            "service": "remote-backup",
            "description": DESCRIPTION,
            "contact_phone": "+7 495 123-45-67",
            "consent": "y",
        }
    )
    fields.add("backup", FileStorage(io.BytesIO(b"y" * 600_000), filename="base.bak"))
    boundary, body = encode_multipart(fields)
    response = tenant.client.post(
        "/sessions?lang=en",
        input_stream=io.BytesIO(body[: len(body) // 2]),
        content_type=f"multipart/form-data; boundary={boundary}",
        content_length=len(body),
    )
    assert response.status_code == 400
    assert rows(kvartplata, RemoteSession) == []
    assert not kvartplata.files_folder.exists() or not any(kvartplata.files_folder.glob("*"))


# --- mistakes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"consent": None}, "consent", "Tick the box to agree to pay for it."),
        ({"backup_confirmed": None}, "backup_confirmed", "Confirm that you made a fresh backup"),
        ({"starts_at": None}, "starts_at", "Choose a time for the session."),
        ({"description": "Broken"}, "description", "at least 30 characters"),
        ({"contact_phone": ""}, "contact_phone", "Give a phone number the consultant can call."),
    ],
    ids=["no consent", "no backup made", "no time", "too short a description", "no phone"],
)
def test_a_session_order_with_a_mistake_says_so_beside_the_field_and_books_nothing(
    kvartplata, tenant, page, changes, field, error
):
    response = order_direct(tenant, **changes)
    assert response.status_code == 422
    assert error in page(response.get_data(as_text=True)).error_beside(field)
    assert rows(kvartplata, RemoteSession) == []


def test_a_time_that_is_not_free_is_refused(kvartplata, tenant):
    response = order_direct(tenant, starts_at="2026-12-07T19:00:00+03:00")  # after hours
    assert response.status_code == 409
    assert rows(kvartplata, RemoteSession) == []


def test_closing_a_session_without_logged_time_is_refused(kvartplata, tenant, desk):
    number = session_id(order_direct(tenant))
    refused = close(desk, number)
    followed = visible_text(desk.client.get(refused.headers["Location"]).get_data(True))
    assert "Log the time spent before closing the session." in followed
    assert rows(kvartplata, Order) == []


# --- who sees what -----------------------------------------------------------------------------


def test_another_organizations_session_and_staff_pages_are_not_found(
    kvartplata, tenant, make_organization, form_client
):
    number = session_id(order_direct(tenant))
    stranger = make_organization("Чужие", "owner@other.example", language="ru")
    forms = form_client(kvartplata.test_client())
    forms.sign_in(stranger.owner.email)
    for path in (
        f"/sessions/{number}",
        f"/sessions/{number}/backup",
        "/staff/sessions",
        f"/staff/sessions/{number}",
    ):
        assert forms.client.get(path).status_code == 404, path
    assert tenant.client.get("/staff/sessions").status_code == 404
    anonymous = kvartplata.test_client()
    assert anonymous.get(f"/sessions/{number}").status_code == 302


def test_the_plan_page_prices_a_session_for_the_hours_typed(kvartplata):
    client = kvartplata.test_client()
    fragment = client.get(
        "/services/remote-direct/price?hours=3&first_time=1&lang=en",
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert 'data-total="7900.00"' in fragment.get_data(as_text=True)
    page = client.get("/services/remote-direct/price?hours=abc&lang=en")
    assert page.status_code == 422
    assert "Type the hours as a number" in visible_text(page.get_data(as_text=True))
    comparison = client.get("/?lang=en").get_data(as_text=True)
    assert 'action="/services/remote-direct/price"' in comparison
