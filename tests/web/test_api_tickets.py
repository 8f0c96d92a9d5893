"""The tickets of the JSON API, for a personal token: filing, the lists, one ticket with its
clocks, replies; who sees what; and every mistake answered in the API's error shape."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.api import auth
from portal.catalog.current import current_catalog
from portal.extensions import db
from portal.models import Ticket, User
from portal.tickets import workflow
from portal.tickets.presentation import catalog_of, file_policy
from tests.seed import give_plan

FRIDAY_KYIV = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # Friday 16:30 in Kyiv
PERIOD = (date(2026, 11, 1), date(2027, 10, 31))
PRINTER = {"title": "Cannot print", "description": "The printer says no.", "category": "support"}


def at(app, moment: datetime) -> None:
    app.config["CLOCK"] = lambda: moment


def token_of(app, email: str) -> str:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return auth.create_token(db.session, user, "Tests", FRIDAY_KYIV).secret


class Api:
    """A script with a token: ``api.post("/tickets", json=...)`` answers the response."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**sent, **(headers or {})}

    def get(self, path: str, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.get(f"/api/v1{path}", headers=headers, **kwargs)

    def post(self, path: str, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.post(f"/api/v1{path}", headers=headers, **kwargs)

    def file(self, **fields):
        response = self.post("/tickets?lang=en", json={**PRINTER, **fields})
        assert response.status_code == 201, response.json
        return response.json


@pytest.fixture
def acme(app, make_organization):
    """A Kyiv client with an OPTIMA period."""
    org = make_organization("Acme", "owner@acme.example", members=["member@acme.example"])
    with app.app_context():
        give_plan(db.session, org.id, "optima", *PERIOD)
    at(app, FRIDAY_KYIV)
    return org


@pytest.fixture
def other(app, make_organization):
    return make_organization("Other", "owner@other.example")


@pytest.fixture
def owner_api(app, acme) -> Api:
    return Api(app.test_client(), token_of(app, acme.owner.email))


@pytest.fixture
def other_api(app, other) -> Api:
    return Api(app.test_client(), token_of(app, other.owner.email))


@pytest.fixture
def staff_api(app, make_user) -> Api:
    account = make_user("agent@example.com", role="staff", name="Petro")
    return Api(app.test_client(), token_of(app, account.email))


def error_of(response) -> tuple[int, str, str | None]:
    body = response.json
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"], body["error"]["field"]


def tickets_in(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


# --- filing -----------------------------------------------------------------------------------


def test_a_client_files_a_ticket_and_reads_each_targets_due_time_and_state(app, owner_api, acme):
    response = owner_api.post("/tickets", json={**PRINTER, "remote_access": True})
    assert response.status_code == 201
    ticket = response.json
    assert response.headers["Location"] == f"/api/v1/tickets/{ticket['id']}"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert (ticket["title"], ticket["status"], ticket["category"]) == (
        "Cannot print",
        "new",
        "support",
    )
    assert (ticket["organization_id"], ticket["plan"], ticket["catalog"]) == (
        acme.id,
        "optima",
        "kbs",
    )
    assert ticket["remote_access"] is True
    assert ticket["opened_at"] == "2026-11-27T16:30:00+02:00"
    # One working day of nine hours: 1.5 h on Friday, 7.5 h on Monday.
    assert ticket["targets"] == [
        {
            "target": "reaction",
            "clock": "working",
            "state": "running",
            "started_at": "2026-11-27T16:30:00+02:00",
            "due_at": "2026-11-30T16:30:00+02:00",
            "used_seconds": 0,
            "allowed_seconds": 9 * 3600,
            "met_at": None,
            "paused_since": None,
            "breached": False,
        }
    ]
    assert ticket["messages"] == []
    with app.app_context():
        stored = db.session.get(Ticket, ticket["id"])
        assert stored.opened_by_id == acme.owner.id and stored.filed_by_id is None


def clock(api, number: int) -> dict:
    (target,) = api.get(f"/tickets/{number}").json["targets"]
    return target


def test_a_target_runs_pauses_while_waiting_is_met_by_staffs_reply_and_shows_it(
    app, owner_api, staff_api, acme
):
    number = owner_api.file()["id"]
    monday = FRIDAY_KYIV + timedelta(days=2, hours=19)  # Monday 11:30 Kyiv
    at(app, monday)
    assert (clock(owner_api, number)["state"], clock(owner_api, number)["used_seconds"]) == (
        "running",
        4 * 3600,
    )

    with app.app_context():
        ticket = db.session.get(Ticket, number)
        agent = db.session.scalar(sa.select(User).where(User.role == "staff"))
        workflow.set_status(
            db.session, catalog_of(ticket), ticket, agent, "waiting_for_client", monday
        )
    at(app, monday + timedelta(hours=2))
    paused = clock(owner_api, number)
    assert (paused["state"], paused["used_seconds"]) == ("paused", 4 * 3600)
    assert paused["paused_since"] == "2026-11-30T11:30:00+02:00"

    answered = owner_api.post(f"/tickets/{number}/replies", json={"body": "Done."})
    assert answered.status_code == 201
    assert answered.json["status"] == "in_progress"
    # Two working hours paused move the due time by two working hours.
    assert answered.json["targets"][0]["due_at"] == "2026-12-01T09:30:00+02:00"

    at(app, monday + timedelta(hours=3))
    replied = staff_api.post(f"/tickets/{number}/replies", json={"body": "Fixed."})
    assert replied.status_code == 201
    met = replied.json["targets"][0]
    assert (met["state"], met["met_at"], met["breached"]) == (
        "met",
        "2026-11-30T14:30:00+02:00",
        False,
    )
    assert [(m["body"], m["from_staff"]) for m in replied.json["messages"] if m["body"]] == [
        ("Done.", False),
        ("Fixed.", True),
    ]


def test_a_target_past_its_due_time_shows_as_breached(app, owner_api, acme):
    number = owner_api.file()["id"]
    at(app, FRIDAY_KYIV + timedelta(days=4))  # Tuesday: the reaction was due on Monday
    late = clock(owner_api, number)
    assert (late["state"], late["breached"]) == ("breached", True)
    assert late["used_seconds"] == late["allowed_seconds"]  # the engine counts up to the span


@pytest.fixture
def crystals(make_app, outbox, make_organization, make_user):
    """A Crystals Garant client's and a staff member's scripts."""
    app = make_app(PORTAL_CATALOG="crystals", OUTBOX_DIR=str(outbox))
    opened = datetime.fromisoformat("2027-01-20T10:00:00+03:00")  # a Wednesday in Moscow
    at(app, opened)
    org = make_organization("Shop", "owner@shop.example", language="ru", timezone="Europe/Moscow")
    with app.app_context():
        give_plan(db.session, org.id, "garant", *PERIOD, catalog="crystals")
    agent = make_user("agent@example.com", role="staff", name="Ivan")
    client = Api(app.test_client(), token_of(app, org.owner.email))
    return app, opened, client, Api(app.test_client(), token_of(app, agent.email))


def test_each_target_of_a_crystals_ticket_has_its_own_due_time_and_state(crystals):
    app, opened, client, staff = crystals
    ticket = client.file(target="restore")
    assert [(t["target"], t["clock"], t["due_at"], t["state"]) for t in ticket["targets"]] == [
        ("registration", "24/7", "2027-01-20T10:15:00+03:00", "running"),
        ("restore", "24/7", "2027-01-20T14:00:00+03:00", "running"),
    ]
    at(app, opened + timedelta(minutes=10))
    replied = staff.post(f"/tickets/{ticket['id']}/replies", json={"body": "Looking."}).json
    assert [(t["target"], t["state"], t["met_at"]) for t in replied["targets"]] == [
        ("registration", "met", "2027-01-20T10:10:00+03:00"),
        ("restore", "running", None),
    ]
    assert [t["used_seconds"] for t in replied["targets"]] == [600, 600]


def test_an_iiko_style_claim_the_plan_does_not_know_is_refused_beside_the_target(crystals):
    _app, _opened, client, _staff = crystals
    response = client.post("/tickets?lang=en", json={**PRINTER, "target": "meteor"})
    status, _code, field = error_of(response)
    assert (status, field) == (422, "target")


def test_the_same_idempotency_key_twice_files_one_ticket(app, owner_api, acme):
    key = {"Idempotency-Key": "job-2026-11-27-001"}
    first = owner_api.post("/tickets", json=PRINTER, headers=key)
    again = owner_api.post("/tickets", json=PRINTER, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert tickets_in(app) == 1
    other_key = owner_api.post("/tickets", json=PRINTER, headers={"Idempotency-Key": "job-2"})
    assert other_key.status_code == 201 and tickets_in(app) == 2


def test_the_same_idempotency_key_from_another_user_is_another_ticket(app, owner_api, other_api):
    key = {"Idempotency-Key": "nightly"}
    mine = owner_api.post("/tickets", json=PRINTER, headers=key).json
    theirs = other_api.post("/tickets", json=PRINTER, headers=key).json
    assert mine["id"] != theirs["id"] and theirs["organization_id"] != mine["organization_id"]


def test_the_same_reply_sent_twice_with_a_key_adds_one_message(owner_api, acme):
    number = owner_api.file()["id"]
    key = {"Idempotency-Key": "reply-1"}
    for _ in range(2):
        owner_api.post(f"/tickets/{number}/replies", json={"body": "Hello"}, headers=key)
    messages = owner_api.get(f"/tickets/{number}").json["messages"]
    assert [m["body"] for m in messages] == ["Hello"]


def test_the_same_reply_key_on_another_ticket_is_another_message(owner_api, acme):
    first, second = owner_api.file()["id"], owner_api.file(title="Scanner")["id"]
    key = {"Idempotency-Key": "reply-1"}
    for number in (first, second):
        owner_api.post(f"/tickets/{number}/replies", json={"body": f"On {number}"}, headers=key)
    for number in (first, second):
        messages = owner_api.get(f"/tickets/{number}").json["messages"]
        assert [m["body"] for m in messages] == [f"On {number}"]


def test_staff_file_for_the_organization_they_name(app, staff_api, acme):
    refused = staff_api.post("/tickets?lang=en", json=PRINTER)
    assert error_of(refused) == (422, "missing_parameter", "organization_id")
    unknown = staff_api.post("/tickets", json={**PRINTER, "organization_id": 999999})
    assert error_of(unknown) == (422, "unknown_organization", "organization_id")
    filed = staff_api.post("/tickets", json={**PRINTER, "organization_id": acme.id})
    assert filed.status_code == 201
    assert (filed.json["organization_id"], filed.json["plan"]) == (acme.id, "optima")
    with app.app_context():
        ticket = db.session.get(Ticket, filed.json["id"])
        assert ticket.opened_by_id is None and ticket.filed_by.role == "staff"


def test_a_client_cannot_file_for_another_organization(app, owner_api, other):
    response = owner_api.post("/tickets", json={**PRINTER, "organization_id": other.id})
    assert error_of(response) == (422, "organization_not_allowed", "organization_id")
    assert tickets_in(app) == 0


# --- mistakes ---------------------------------------------------------------------------------


def but(**changes) -> dict:
    """The printer ticket with ``changes``."""
    return {**PRINTER, **changes}


MISTAKES = [
    # (what the script sends, status, code, field)
    ("a body that is not JSON", b'{"title": ', 400, "invalid_json", None),
    ("a JSON list", [PRINTER], 400, "invalid_json", None),
    ("a JSON string", "Cannot print", 400, "invalid_json", None),
    ("a title that is a number", but(title=5), 400, "invalid_type", "title"),
    ("remote access as a word", but(remote_access="yes"), 400, "invalid_type", "remote_access"),
    ("an organization as text", but(organization_id="7"), 400, "invalid_type", "organization_id"),
    ("an organization as true", but(organization_id=True), 400, "invalid_type", "organization_id"),
    ("a field the API does not know", but(priority="high"), 400, "unknown_field", "priority"),
    ("a NUL in the title", but(title="Cannot\x00print"), 400, "invalid_text", "title"),
    ("a lone surrogate", b'{"title": "x", "description": "\\ud800"}', 400, "invalid_text",
     "description"),
    ("no title", {"description": "x"}, 422, "title_missing", "title"),
    ("a blank title", but(title="   "), 422, "title_missing", "title"),
    ("a title too long", but(title="x" * 201), 422, "title_too_long", "title"),
    ("no description", {"title": "x"}, 422, "description_missing", "description"),
    ("an unknown category", but(category="gardening"), 422, "unknown_category", "category"),
    ("a target the plan has not", but(target="x" * 500), 422, "target_not_claimable", "target"),
    ("a phone too long", but(contact_phone="1" * 33), 422, "contact_phone_too_long",
     "contact_phone"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "body", "status", "code", "field"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_filing_refuses(app, owner_api, sent, body, status, code, field):
    if isinstance(body, bytes):
        response = owner_api.post(
            "/tickets?lang=en", data=body, headers={"Content-Type": "application/json"}
        )
    else:
        response = owner_api.post("/tickets?lang=en", json=body)
    assert error_of(response) == (status, code, field)
    assert tickets_in(app) == 0


def test_a_refusal_says_what_to_change_in_english_when_asked(owner_api, acme):
    response = owner_api.post("/tickets?lang=en", json={"description": "x"})
    assert response.json["error"]["message"] == "Say in a few words what happened."


@pytest.mark.parametrize(
    ("key", "status"), [("ok-key_1.2:3", 201), ("", 400), ("spaces are out", 400), ("k" * 65, 400)]
)
def test_an_idempotency_key_is_a_short_token(owner_api, acme, key, status):
    response = owner_api.post("/tickets", json=PRINTER, headers={"Idempotency-Key": key})
    assert response.status_code == status
    if status == 400:
        assert error_of(response)[1:] == ("invalid_idempotency_key", "Idempotency-Key")


REPLY_MISTAKES = [
    ("no body", {}, 422, "message_missing", "body"),
    ("a body that is a list", {"body": ["hi"]}, 400, "invalid_type", "body"),
    ("an internal note", {"body": "hi", "internal": True}, 400, "unknown_field", "internal"),
]


@pytest.mark.parametrize(
    ("sent", "body", "status", "code", "field"), REPLY_MISTAKES, ids=[m[0] for m in REPLY_MISTAKES]
)
def test_a_reply_refuses(owner_api, acme, sent, body, status, code, field):
    number = owner_api.file()["id"]
    assert error_of(owner_api.post(f"/tickets/{number}/replies", json=body)) == (
        status,
        code,
        field,
    )


def test_a_closed_ticket_takes_no_reply(app, owner_api, acme):
    number = owner_api.file()["id"]
    with app.app_context():
        ticket = db.session.get(Ticket, number)
        ticket.status = "closed"
        db.session.commit()
    response = owner_api.post(f"/tickets/{number}/replies", json={"body": "Hello?"})
    assert error_of(response) == (422, "ticket_closed", None)


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=x", "per_page=0", "per_page=101", "per_page=-1", "status=lost", "sort=due",
     "page=1&page=2"],
)  # fmt: skip
def test_a_list_refuses_a_parameter_it_cannot_use(owner_api, acme, query):
    status, code, field = error_of(owner_api.get(f"/tickets?{query}"))
    assert status == 400 and code in ("invalid_parameter", "unknown_parameter")
    assert field == query.split("=")[0]


# --- who sees what ----------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/tickets", None),
    ("get", "/tickets/{id}", None),
    ("post", "/tickets", PRINTER),
    ("post", "/tickets/{id}/replies", {"body": "Hello"}),
]


@pytest.fixture
def acmes_ticket(owner_api, acme) -> int:
    return owner_api.file()["id"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("a revoked token", 401), ("a malformed token", 401)],
)
def test_every_endpoint_answers_401_to(app, acme, acmes_ticket, who, status):
    token = token_of(app, acme.members[0].email)
    if who == "anonymous":
        token = None
    elif who == "a revoked token":
        with app.app_context():
            row = db.session.scalar(sa.select(auth.ApiToken).order_by(auth.ApiToken.id.desc()))
            auth.revoke_token(db.session, row.user, row.id, FRIDAY_KYIV)
    else:
        token = "not-a-token"
    api = Api(app.test_client(), token)
    before = tickets_in(app)
    for method, path, body in ENDPOINTS:
        response = getattr(api, method)(path.format(id=acmes_ticket), json=body)
        assert response.status_code == status, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert error_of(response)[1] in ("authentication_required", "invalid_token")
    assert tickets_in(app) == before


def test_another_organizations_ticket_is_no_such_ticket(app, other_api, acmes_ticket):
    for method, path, body in ENDPOINTS[1::2]:
        response = getattr(other_api, method)(path.format(id=acmes_ticket), json=body)
        assert error_of(response) == (404, "not_found", None)
    assert error_of(other_api.get("/tickets/999999")) == (404, "not_found", None)


def test_a_list_shows_the_organizations_tickets_and_staff_see_every_one(
    app, owner_api, other_api, staff_api, acme
):
    mine = [owner_api.file(title=f"Acme {n}")["id"] for n in range(3)]
    theirs = other_api.file(title="Other's")["id"]
    member = Api(app.test_client(), token_of(app, acme.members[0].email))

    listed = member.get("/tickets").json
    assert [t["id"] for t in listed["tickets"]] == mine[::-1]  # newest first
    assert (listed["total"], listed["page"], listed["pages"]) == (3, 1, 1)
    assert [t["id"] for t in other_api.get("/tickets").json["tickets"]] == [theirs]
    assert sorted(t["id"] for t in staff_api.get("/tickets").json["tickets"]) == sorted(
        [*mine, theirs]
    )
    assert staff_api.get(f"/tickets/{theirs}").status_code == 200


def test_a_list_comes_a_page_at_a_time(owner_api, acme):
    filed = [owner_api.file(title=f"T{n}")["id"] for n in range(5)]
    second = owner_api.get("/tickets?per_page=2&page=2").json
    assert (second["page"], second["per_page"], second["pages"], second["total"]) == (2, 2, 3, 5)
    assert [t["id"] for t in second["tickets"]] == filed[::-1][2:4]
    closed = owner_api.get("/tickets?status=closed").json
    assert closed["tickets"] == [] and closed["total"] == 0


def test_a_list_runs_as_many_queries_for_30_tickets_as_for_3(app, owner_api, staff_api, acme):
    from tests.web.test_lists import counting

    def queries(api) -> int:
        api.get("/tickets?per_page=100")
        with counting(app) as statements:
            assert api.get("/tickets?per_page=100").status_code == 200
        return len(statements)

    def file_many(count: int) -> None:
        with app.app_context():
            owner = db.session.get(User, acme.owner.id)
            catalog = current_catalog()
            from portal.tickets import filing

            for n in range(count):
                filing.file_ticket(
                    db.session,
                    catalog,
                    owner.organization,
                    filing.TicketDetails(f"Ticket {n}", "Text", "support"),
                    opened_by=owner,
                    now=FRIDAY_KYIV,
                    today=FRIDAY_KYIV.date(),
                    files=file_policy(),
                )

    file_many(3)
    few = (queries(owner_api), queries(staff_api))
    file_many(27)
    assert (queries(owner_api), queries(staff_api)) == few


def test_staffs_internal_notes_are_shown_to_staff_only(app, owner_api, staff_api, acmes_ticket):
    with app.app_context():
        ticket = db.session.get(Ticket, acmes_ticket)
        agent = db.session.scalar(sa.select(User).where(User.role == "staff"))
        workflow.add_message(
            db.session,
            catalog_of(ticket),
            ticket,
            agent,
            "Their printer is ancient.",
            now=FRIDAY_KYIV,
            files=file_policy(),
            internal=True,
        )
    assert owner_api.get(f"/tickets/{acmes_ticket}").json["messages"] == []
    (note,) = staff_api.get(f"/tickets/{acmes_ticket}").json["messages"]
    assert (note["body"], note["internal"], note["author"]) == (
        "Their printer is ancient.",
        True,
        "Petro",
    )
