"""Call-back and quote requests: the client's form, its confirmation, and the staff list."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import redis
from sqlalchemy import func, select

from portal import formatting
from portal.callbacks import services
from portal.catalog.services import active_catalog
from portal.extensions import db
from portal.models import CallbackRequest

VALID = {
    "name": "Оксана Петренко",
    "phone": "067 123 45 67",
    "company": "ТОВ Ромашка",
    "preferred_time": "morning",
    "consent": "y",
    "plan": "optima",
    "kind": "callback",
    "options": "term=7m&start=2027-01-15",
}


def stored(app) -> list[CallbackRequest]:
    with app.app_context():
        rows = db.session.execute(select(CallbackRequest).order_by(CallbackRequest.id)).scalars()
        return [row for row in rows]


def count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(CallbackRequest)).scalar()


# --- the form ---------------------------------------------------------------------------


def test_the_form_names_the_plan_and_carries_what_the_client_was_looking_at(client, page):
    response = client.get("/callback?plan=optima&kind=callback&options=term%3D7m&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form = page(html)
    assert "Request a call-back" in html
    assert "About the plan OPTIMA." in html
    assert "Your choice: 7 months." in html
    assert form.value("plan") == "optima"
    assert form.value("kind") == "callback"
    assert form.value("options") == "term=7m"
    assert form.value("preferred_time") == "asap"
    assert form.inputs["phone"]["type"] == "tel"
    assert form.inputs["phone"]["inputmode"] == "tel"
    assert form.inputs["phone"]["autocomplete"] == "tel"
    assert form.inputs["name"]["autocomplete"] == "name"
    assert "050 123 4567" in form.text("phone-hint")  # a Ukrainian example for the KBS catalog
    assert '<label for="consent">I agree to be called and to the processing' in html
    assert 'hx-post="/callback"' in html and 'hx-target="#callback-form"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_plan_priced_on_request_gets_a_quote_form(make_app, page):
    client = make_app(PORTAL_CATALOG="crystals").test_client()
    html = client.get("/callback?plan=garant&kind=quote&lang=en").get_data(as_text=True)
    assert "Request a quote" in html
    assert "Ask for a quote" in html
    assert page(html).value("kind") == "quote"


@pytest.mark.parametrize(
    "query",
    [
        "plan=nonexistent",
        "plan=optima&kind=subscribe",
        "kind=quote",
    ],
    ids=["an unknown plan", "an unknown kind", "a quote without a plan"],
)
def test_a_link_to_the_form_that_names_nothing_offered_is_a_404(client, query):
    assert client.get(f"/callback?{query}").status_code == 404


def test_a_call_back_needs_no_plan(client):
    assert client.get("/callback?lang=en").status_code == 200


# --- a request taken ----------------------------------------------------------------------

TAKEN = [
    # catalog, plan, kind, typed phone, stored phone, promised call-back time (by hand)
    ("kbs", "optima", "callback", "067 123 45 67", "+380671234567", "2026-11-23T10:00:00+02:00"),
    (
        "iiko",
        "contract",
        "callback",
        "8 (3812) 59-49-52",
        "+73812594952",
        "2026-11-23T09:15:00+06:00",
    ),
    ("iotex", "premium", "callback", "021 1234 5678", "+982112345678", "2026-11-22T16:30:00+03:30"),
    ("crystals", "garant", "quote", "8 495 123-45-67", "+74951234567", "2026-11-23T13:00:00+03:00"),
    (
        "kvartplata",
        None,
        "callback",
        "+7 912 345-67-89",
        "+79123456789",
        "2026-11-23T10:00:00+03:00",
    ),
]


@pytest.mark.parametrize(
    ("catalog", "plan", "kind", "typed", "e164", "due"), TAKEN, ids=[row[0] for row in TAKEN]
)
def test_a_request_in_the_national_format_is_stored_in_e164_with_the_engines_due_time(
    make_app, form_client, catalog, plan, kind, typed, e164, due
):
    # At the fixed clock, Sunday 2026-11-22 09:00 UTC: KBS calls back a working hour after
    # Monday 09:00 Kyiv; iiko 15 working minutes after Monday 09:00 Omsk; Iotex 4 working
    # hours after Sunday 12:30 Tehran (a working day there); Crystals 4 working hours after
    # Monday 09:00 Moscow; Kvartplata a working hour after it.
    app = make_app(PORTAL_CATALOG=catalog)
    forms = form_client(app.test_client())
    page = f"/callback?kind={kind}" + (f"&plan={plan}" if plan else "")
    data = {**VALID, "phone": typed, "plan": plan or "", "kind": kind}
    if kind == "quote":
        data.update(QUOTE)
    response = forms.submit(page, "/callback?lang=en", data)

    assert response.status_code == 303
    [taken] = stored(app)
    assert response.location == f"/callback/{taken.token}"
    assert taken.phone == e164
    assert taken.due_at == datetime.fromisoformat(due)
    assert taken.created_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert (taken.catalog, taken.catalog_version, taken.plan, taken.kind) == (
        catalog,
        1,
        plan,
        kind,
    )
    assert (taken.name, taken.company, taken.preferred_time) == (
        "Оксана Петренко",
        "ТОВ Ромашка",
        "morning",
    )
    assert taken.options == "term=7m&start=2027-01-15"
    assert taken.consent is True and taken.closed_at is None
    assert taken.locale == "en"

    html = forms.client.get(f"{response.location}?lang=en").get_data(as_text=True)
    shown = formatting.moment(datetime.fromisoformat(due), "en", None)
    assert "Thank you, Оксана Петренко. A manager will call you back by" in html
    assert f'<time datetime="{due}">{shown}</time>' in html
    if catalog == "kbs":
        assert "Your choice: 7 months, from 15 January 2027." in html
        assert 'href="/?term=7m&amp;start=2027-01-15">Back to the plans</a>' in html


# --- quotes for a plan priced on request (Crystals' Garant, from 100 registers) ----------

QUOTE = {"email": "Buyer@Example.com ", "count_register": "120", "count_store": "14"}
GARANT = {**VALID, **QUOTE, "plan": "garant", "kind": "quote", "phone": "8 495 123-45-67"}


def test_a_quote_asks_the_e_mail_and_the_counts_the_plan_names(make_app, page):
    client = make_app(PORTAL_CATALOG="crystals").test_client()
    html = client.get("/callback?plan=garant&kind=quote&lang=en").get_data(as_text=True)
    form = page(html)
    assert '<label for="email">E-mail for the quote</label>' in html
    assert form.inputs["email"]["type"] == "email"
    assert '<label for="count_register">Number of cash registers</label>' in html
    assert '<label for="count_store">Number of stores</label>' in html
    assert form.inputs["count_register"]["inputmode"] == "numeric"


def test_a_call_back_asks_no_e_mail_and_no_counts(client, page):
    form = page(client.get("/callback?plan=optima&lang=en").get_data(as_text=True))
    assert "email" not in form.inputs and "count_register" not in form.inputs


def test_a_quote_request_keeps_its_e_mail_and_counts_and_staff_read_them(
    make_app, form_client, make_user
):
    app = make_app(PORTAL_CATALOG="crystals")
    forms = form_client(app.test_client())
    response = forms.submit("/callback?plan=garant&kind=quote", "/callback?lang=en", GARANT)
    assert response.status_code == 303
    [taken] = stored(app)
    assert (taken.email, taken.counts) == ("buyer@example.com", {"register": 120, "store": 14})
    html = forms.client.get(f"{response.location}?lang=en").get_data(as_text=True)
    assert "The quote will be sent to" in html and "buyer@example.com" in html
    assert "It is made for 120\u00a0cash registers, 14\u00a0stores." in html

    forms.sign_in(make_user("staff@example.com", role="staff").email)
    listed = forms.client.get("/staff/callbacks?lang=ru").get_data(as_text=True)
    assert "120\u00a0касс, 14\u00a0магазинов" in listed
    assert 'href="mailto:buyer@example.com"' in listed


QUOTE_MISTAKES = [
    # what is wrong, the change, the field the message stands beside, the message
    ("no e-mail", {"email": ""}, "email", "Enter the e-mail address the quote should go to."),
    ("an e-mail without @", {"email": "buyer"}, "email", "This is not an e-mail address."),
    ("no count of registers", {"count_register": ""}, "count_register", "Enter a number."),
    (
        "registers in words",
        {"count_register": "many"},
        "count_register",
        "Type a whole number, for example 120.",
    ),
    (
        "fewer registers than the plan is for",
        {"count_register": "40"},
        "count_register",
        "Garant is for clients with 100 cash registers or more. For fewer, ask for a "
        "call-back: we will suggest the support that fits.",
    ),
    ("a negative count of stores", {"count_store": "-3"}, "count_store", "Type a whole number"),
]


@pytest.mark.parametrize(
    ("mistake", "change", "field", "message"), QUOTE_MISTAKES, ids=[r[0] for r in QUOTE_MISTAKES]
)
def test_a_quote_request_with_a_mistake_is_refused_beside_the_field(
    make_app, form_client, page, mistake, change, field, message
):
    app = make_app(PORTAL_CATALOG="crystals")
    forms = form_client(app.test_client())
    response = forms.submit(
        "/callback?plan=garant&kind=quote", "/callback?lang=en", {**GARANT, **change}
    )
    assert response.status_code == 422
    form = page(response.get_data(as_text=True))
    assert message in form.error_beside(field)
    assert form.value("count_register") == {**GARANT, **change}["count_register"]
    assert count(app) == 0


def test_a_plan_sent_with_spaces_around_it_is_the_plan_and_its_counts_are_asked(
    make_app, form_client
):
    app = make_app(PORTAL_CATALOG="crystals")
    forms = form_client(app.test_client())
    data = {**GARANT, "plan": " garant "}
    response = forms.submit("/callback?plan=garant&kind=quote", "/callback?lang=en", data)
    assert response.status_code == 303
    assert stored(app)[0].counts == {"register": 120, "store": 14}


def test_what_the_service_refuses_after_the_form_is_said_beside_the_field(
    make_app, form_client, page, monkeypatch
):
    app = make_app(PORTAL_CATALOG="crystals")
    forms = form_client(app.test_client())

    def refuse(*args, **kwargs):
        raise services.CallbackError("counts", "a quote for garant gives the counts: register")

    monkeypatch.setattr(services, "request_callback", refuse)
    response = forms.submit("/callback?plan=garant&kind=quote", "/callback?lang=en", GARANT)
    assert response.status_code == 422
    assert "This is not what the request needs: check it and send the form again." in (
        response.get_data(as_text=True)
    )
    assert page(response.get_data(as_text=True)).value("count_register") == "120"


def test_persian_digits_count_registers(make_app, form_client):
    app = make_app(PORTAL_CATALOG="crystals")
    forms = form_client(app.test_client())
    data = {**GARANT, "count_register": "۱۲۰", "count_store": "۱۴"}
    response = forms.submit("/callback?plan=garant&kind=quote", "/callback?lang=fa", data)
    assert response.status_code == 303
    assert stored(app)[0].counts == {"register": 120, "store": 14}


# Who Garant is for, in each language's grammar (a count takes the plural form it needs).
ELIGIBILITY = [
    ("en", "for clients with 100\u00a0cash registers or more"),
    ("ru", "для клиентов, у которых 100\u00a0касс и больше"),
    ("uk", "для клієнтів, які мають 100\u00a0кас і більше"),
    ("kk", "100\u00a0касса және одан көп клиенттер үшін"),
    ("fa", "برای مشتریانی با ۱۰۰\u00a0صندوق فروش یا بیشتر"),
]


@pytest.mark.parametrize(("lang", "said"), ELIGIBILITY, ids=[r[0] for r in ELIGIBILITY])
def test_the_comparison_says_who_garant_is_for_in_each_language(make_app, lang, said):
    client = make_app(PORTAL_CATALOG="crystals").test_client()
    assert said in client.get(f"/plans?lang={lang}").get_data(as_text=True)


def test_the_iiko_confirmation_promises_monday_9_15_omsk_time(make_app, form_client):
    app = make_app(PORTAL_CATALOG="iiko")
    forms = form_client(app.test_client())
    data = {**VALID, "phone": "8 (3812) 59-49-52", "plan": "contract"}
    response = forms.submit("/callback?plan=contract", "/callback", data)
    html = forms.client.get(f"{response.location}?lang=en").get_data(as_text=True)
    assert "A manager will call you back by" in html
    assert ">23 November 2026, 09:15</time>, Omsk time." in html
    # The number for the client to check, read out in one piece:
    assert 'We will call <bdi dir="ltr" class="phone-number">+7 381 259-49-52</bdi>.' in html


def test_a_persian_confirmation_gives_the_due_time_in_the_jalali_calendar(make_app, form_client):
    app = make_app(PORTAL_CATALOG="iotex")
    forms = form_client(app.test_client())
    data = {**VALID, "phone": "021 1234 5678", "plan": "premium"}
    response = forms.submit("/callback?plan=premium", "/callback", data)
    html = forms.client.get(response.location).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl"' in html
    assert "۱ آذر ۱۴۰۵، ۱۶:۳۰" in html  # Sunday 1 Azar 1405, 16:30 Tehran


def test_an_unknown_confirmation_is_a_404(client):
    assert client.get("/callback/no-such-token").status_code == 404


# --- mistakes -----------------------------------------------------------------------------

MISTAKES = [
    # what is wrong, the change, the field the message stands beside, the message
    ("a missing name", {"name": ""}, "name", "Enter your name."),
    ("a name of spaces", {"name": "   "}, "name", "Enter your name."),
    ("a name too long", {"name": "Я" * 201}, "name", "A name has at most 200 characters."),
    ("no phone", {"phone": ""}, "phone", "Enter a phone number."),
    (
        "too few digits",
        {"phone": "067 123"},
        "phone",
        "This is not a phone number we can call. Type it with its area code, "
        "for example 050 123 4567.",
    ),
    (
        "an unallocated number",
        {"phone": "067 123 45 6"},
        "phone",
        "This is not a phone number we can call.",
    ),
    ("words", {"phone": "call me"}, "phone", "This is not a phone number we can call."),
    ("no consent", {"consent": None}, "consent", "We can only call you with your agreement."),
    (
        "a preferred time not in the list",
        {"preferred_time": "midnight"},
        "preferred_time",
        "Choose a time from the list.",
    ),
    (
        "options too long",
        {"options": "term=7m&" * 251},
        "options",
        "The options you were looking at were too long to send and are left out.",
    ),
    ("an unknown kind", {"kind": "subscribe"}, "kind", "This kind of request is unknown."),
    ("a plan not offered", {"plan": "platinum"}, "plan", "This plan is no longer offered."),
    (
        "a quote without a plan",
        {"kind": "quote", "plan": ""},
        "plan",
        "A quote is for a plan: choose one on the comparison.",
    ),
]


@pytest.mark.parametrize(
    ("mistake", "change", "field", "message"), MISTAKES, ids=[row[0] for row in MISTAKES]
)
def test_a_mistake_answers_422_with_the_message_beside_the_field_and_every_value_kept(
    app, forms, page, mistake, change, field, message
):
    data = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    response = forms.submit("/callback?plan=optima", "/callback?lang=en", data)

    assert response.status_code == 422
    form = page(response.get_data(as_text=True))
    assert message in form.error_beside(field)
    for typed in ("name", "phone", "company"):
        assert form.value(typed) == data[typed].strip()
    if field != "preferred_time":
        assert form.value("preferred_time") == "morning"
    assert ("checked" in form.inputs["consent"]) == ("consent" in data)
    if field == "options":
        assert form.value("options") == ""  # left out, so that sending again works
    else:
        assert form.value("options") == data["options"]
    assert count(app) == 0


def test_the_form_is_refused_without_its_csrf_token(app, client):
    client.get("/callback?plan=optima")
    response = client.post("/callback", data=VALID)
    assert response.status_code == 400
    assert count(app) == 0


def test_the_form_is_refused_with_the_token_of_another_session(app, make_app, forms):
    other = app.test_client()
    token = forms.token("/callback?plan=optima")
    other.get("/callback?plan=optima")
    assert other.post("/callback", data={"csrf_token": token, **VALID}).status_code == 400
    assert count(app) == 0


# --- htmx -----------------------------------------------------------------------------------

AIMED = {"HX-Request": "true", "HX-Target": "callback-form"}


def test_an_htmx_request_aimed_at_the_form_gets_only_the_form(client):
    response = client.get("/callback?plan=optima&lang=en", headers=AIMED)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="callback-form"')
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_an_htmx_request_aimed_elsewhere_gets_the_whole_page(client):
    headers = {"HX-Request": "true", "HX-Target": "main", "HX-Boosted": "true"}
    html = client.get("/callback?plan=optima", headers=headers).get_data(as_text=True)
    assert "<html" in html
    assert '<div id="callback-form"' in html  # the page includes the same fragment


def test_an_htmx_mistake_gets_the_form_back_with_its_errors(app, forms, page):
    response = forms.submit(
        "/callback?plan=optima", "/callback?lang=en", {**VALID, "name": ""}, headers=AIMED
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert page(html).error_beside("name") == "Enter your name."
    assert count(app) == 0


def test_an_htmx_request_taken_redirects_with_hx_redirect(app, forms):
    response = forms.submit("/callback?plan=optima", "/callback", VALID, headers=AIMED)
    assert response.status_code == 200
    [taken] = stored(app)
    assert response.headers["HX-Redirect"] == f"/callback/{taken.token}"
    assert response.get_data(as_text=True) == ""


# --- the staff list -------------------------------------------------------------------------


def take(app, at: datetime, name: str, **changes) -> int:
    """A request made at ``at`` on the KBS catalog, through the service."""
    details = {
        "kind": "callback",
        "name": name,
        "phone": "067 123 45 67",
        "preferred_time": "afternoon",
        "consent": True,
        "locale": "uk",
        "plan": "optima",
        "company": "ТОВ Ромашка",
        "options": "term=7m",
        **changes,
    }
    with app.app_context():
        catalog = active_catalog(db.session, "kbs", at)
        details = services.CallbackDetails(**details)
        return services.request_callback(db.session, catalog, details, at).id


def rows(html: str) -> list[tuple[str, str]]:
    """(id, overdue) of each row of the staff list, top to bottom."""
    import re

    return re.findall(r'data-request="(\d+)" data-overdue="(true|false)"', html)


def test_staff_see_open_requests_oldest_first_with_overdue_marks(app, client, staff):
    # Made in this order, but listed oldest first. At Sunday 2026-11-22 09:00 UTC:
    friday = take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday")  # due Fri 13:00 Kyiv
    saturday = take(  # due Mon 10:00
        app, datetime(2026, 11, 21, 8, 0, tzinfo=UTC), "Saturday", phone="067 123 45 68"
    )
    thursday = take(  # due Thu 10:00
        app, datetime(2026, 11, 19, 7, 0, tzinfo=UTC), "Thursday", phone="067 123 45 69"
    )

    response = client.get("/staff/callbacks?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert rows(html) == [(str(thursday), "true"), (str(friday), "true"), (str(saturday), "false")]
    assert html.count('<strong class="overdue-mark">overdue</strong>') == 2
    assert '<a dir="ltr" href="tel:+380671234567">+380 67 123 4567</a>' in html
    assert ">20 November 2026, 13:00</time>" in html  # Friday's due time, Kyiv
    assert "(Kyiv)" in html
    assert "In the afternoon" in html and "ТОВ Ромашка" in html and "OPTIMA" in html
    assert 'href="/?term=7m"' in html  # the comparison the client was looking at
    assert '<span class="choice">7 months</span>' in html


def test_the_same_request_sent_again_while_open_is_the_same_request(app, staff, form_client):
    first = take(app, datetime(2026, 11, 22, 8, 0, tzinfo=UTC), "Oksana")
    again = take(
        app,
        datetime(2026, 11, 22, 8, 1, tzinfo=UTC),
        " OKSANA ",
        phone="+380671234567",
        preferred_time="morning",
    )
    other_plan = take(app, datetime(2026, 11, 22, 8, 2, tzinfo=UTC), "Oksana", plan="premium")
    # Someone else on the same line asks for their own call, and never sees Oksana's.
    colleague = take(app, datetime(2026, 11, 22, 8, 3, tzinfo=UTC), "Mallory")
    assert again == first and len({first, other_plan, colleague}) == 3
    (kept,) = [r for r in stored(app) if r.id == first]
    assert kept.preferred_time == "morning"  # what was said last is what staff read
    assert kept.created_at == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # and the promise stands
    desk = form_client(app.test_client())
    desk.sign_in(staff.email)
    desk.submit("/staff/callbacks", f"/staff/callbacks/{first}/close")
    # Closed, the next request of that phone and plan is a new one.
    assert take(app, datetime(2026, 11, 22, 9, 0, tzinfo=UTC), "Oksana") not in (first, other_plan)


def test_forms_sent_back_with_a_mistake_do_not_use_up_the_hourly_limit(forms):
    token = forms.token("/callback?plan=optima")
    for _ in range(12):  # more than the 10 an hour a client address may ask
        wrong = forms.client.post("/callback", data={**VALID, "phone": "12", "csrf_token": token})
        assert wrong.status_code == 422
    taken = forms.client.post("/callback", data={**VALID, "csrf_token": token})
    assert taken.status_code == 303


def burst(clients, count: int) -> list[int]:
    """``count`` valid requests sent at the same moment, in turn through ``clients``."""
    forms_ = [{"csrf_token": c.token("/callback?plan=optima"), **VALID} for c in clients]
    start = threading.Barrier(count)
    answers: list[int] = []

    def send(index: int) -> None:
        start.wait()
        client = clients[index % len(clients)].client
        answers.append(client.post("/callback", data=forms_[index % len(clients)]).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(answers)


def test_a_burst_of_twenty_requests_passes_ten(app, form_client):
    answers = burst([form_client(app.test_client()) for _ in range(4)], 20)
    assert answers == [303] * 10 + [429] * 10


REDIS = "redis://127.0.0.1:6379/15"


def test_the_limit_holds_across_workers_sharing_redis(make_app, form_client):
    # What an earlier run of this test counted in Redis counts no more.
    connection = redis.Redis.from_url(REDIS)
    for key in connection.scan_iter("LIMITS:LIMITER/127.0.0.1/callbacks.submit/*"):
        connection.delete(key)
    workers = [form_client(make_app(RATELIMIT_STORAGE_URI=REDIS).test_client()) for _ in range(2)]
    assert burst(workers, 20) == [303] * 10 + [429] * 10


def test_a_double_click_on_the_form_asks_for_one_call(app, form_client):
    browsers = [form_client(app.test_client()) for _ in range(3)]
    forms_ = [{"csrf_token": b.token("/callback?plan=optima"), **VALID} for b in browsers]
    start = threading.Barrier(len(browsers))
    answers: list[str] = []

    def send(browser, form):
        start.wait()
        answers.append(browser.client.post("/callback", data=form).location)

    threads = [threading.Thread(target=send, args=p) for p in zip(browsers, forms_, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [taken] = stored(app)
    assert answers == [f"/callback/{taken.token}"] * 3


def test_staff_sign_in_and_land_on_the_call_back_list(make_user, forms):
    make_user("olena@example.com")
    response = forms.sign_in("olena@example.com")
    assert response.location == "/staff/callbacks"
    assert forms.client.get("/staff/callbacks").status_code == 200


def test_anyone_signed_out_is_sent_to_sign_in(client):
    response = client.get("/staff/callbacks")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Fstaff%2Fcallbacks"


def test_an_htmx_request_signed_out_is_sent_to_sign_in_with_hx_redirect(client):
    response = client.get("/staff/callbacks", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_a_client_account_never_learns_the_staff_pages_exist(app, client, make_user, forms):
    request_id = take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday")
    make_user("client@example.com", role="client")
    assert forms.sign_in("client@example.com").status_code == 303
    assert client.get("/staff/callbacks").status_code == 404
    close = forms.submit("/callback", f"/staff/callbacks/{request_id}/close")
    assert close.status_code == 404
    assert stored(app)[0].closed_at is None


def test_an_admin_sees_the_staff_list(client, make_user, forms):
    make_user("admin@example.com", role="admin")
    forms.sign_in("admin@example.com")
    assert client.get("/staff/callbacks").status_code == 200


def test_done_closes_a_request_once(app, client, staff, make_user, forms):
    request_id = take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday")
    close = f"/staff/callbacks/{request_id}/close"

    response = forms.submit("/staff/callbacks", close)
    assert response.status_code == 303
    assert response.location == "/staff/callbacks"
    [closed] = stored(app)
    assert closed.closed_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert closed.closed_by_id == staff.id
    assert rows(client.get("/staff/callbacks").get_data(as_text=True)) == []

    # A colleague pressing Done again changes nothing, and sees no error.
    colleague = make_user("colleague@example.com")
    client.post("/logout", data={"csrf_token": forms.token("/staff/callbacks")})
    forms.sign_in(colleague.email)
    assert forms.submit("/staff/callbacks", close).status_code == 303
    assert stored(app)[0].closed_by_id == staff.id


def test_done_with_htmx_removes_the_row(app, staff, forms):
    request_id = take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday")
    response = forms.submit(
        "/staff/callbacks",
        f"/staff/callbacks/{request_id}/close",
        headers={"HX-Request": "true", "HX-Target": f"callback-{request_id}"},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == ""  # swapped for the row: the row goes
    assert response.headers["HX-Trigger"] == "callbackClosed"
    assert stored(app)[0].closed_at is not None


def test_done_needs_the_csrf_token(app, client, staff):
    request_id = take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday")
    assert client.post(f"/staff/callbacks/{request_id}/close").status_code == 400
    assert stored(app)[0].closed_at is None


def test_done_on_an_unknown_request_is_a_404(staff, forms):
    assert forms.submit("/staff/callbacks", "/staff/callbacks/999999/close").status_code == 404


def test_done_signed_out_is_sent_to_sign_in_and_closes_nothing(app, client, forms):
    request_id = take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday")
    response = forms.submit("/callback", f"/staff/callbacks/{request_id}/close")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=" + quote("/staff/", safe=""))
    assert stored(app)[0].closed_at is None


# --- the service ----------------------------------------------------------------------------


def test_the_service_refuses_a_request_without_consent(app):
    with pytest.raises(services.CallbackError) as refused:
        take(app, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "Friday", consent=False)
    assert refused.value.field == "consent"
    assert count(app) == 0


@pytest.mark.parametrize(
    ("catalog", "region"),
    [("kbs", "UA"), ("iiko", "RU"), ("crystals", "RU"), ("kvartplata", "RU"), ("iotex", "IR")],
)
def test_phones_are_read_in_the_catalogs_country(catalog, region):
    from portal.plans import load_catalog

    assert services.phone_region(load_catalog(catalog)) == region
