"""A ticket's clocks: each target's due time moves by the time the ticket waited for its
client, counted as the target counts (working time, or round the clock); the state says
whether the clock runs, stands still, was met or was breached.

KBS (Europe/Kyiv, Mon-Fri 09:00-18:00, +02:00 in January 2027): OPTIMA's reaction is one
working day (9 hours), PREMIUM's four working hours. iiko's contract: a blocking error within
2.5 hours round the clock (answered in Omsk time, +06:00).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import catalog, moment, row

from portal.plans import PlanError
from portal.plans.sla import (
    Pause,
    add_working_time,
    claimable_targets,
    ticket_clock,
    ticket_targets,
    working_time_between,
)

KBS = catalog("kbs")
IIKO = catalog("iiko")
FRIDAY_1630 = "2027-01-22T16:30:00+02:00"


def pauses(*spans):
    return [Pause(moment(start), moment(end) if end else None) for start, end in spans]


# sentence: row(catalog, plan, target, opened, pauses, met at, now, state, due, used)
CLOCKS = {
    "OPTIMA reported Friday 16:30: the reaction is due Monday 16:30, 1.5 hours used by 18:00": row(
        KBS,
        "optima",
        "reaction",
        FRIDAY_1630,
        [],
        None,
        "2027-01-22T18:30:00+02:00",
        "running",
        "2027-01-25T16:30:00+02:00",
        timedelta(hours=1.5),
    ),
    "waiting for the client since Monday 10:00: the clock stands, due as if answered now": row(
        KBS,
        "optima",
        "reaction",
        FRIDAY_1630,
        [("2027-01-25T10:00:00+02:00", None)],
        None,
        "2027-01-25T11:00:00+02:00",
        "paused",
        "2027-01-25T17:30:00+02:00",
        timedelta(hours=2.5),
    ),
    "answered after 1.5 paused working hours: the due time moved by them, to Monday 18:00": row(
        KBS,
        "optima",
        "reaction",
        FRIDAY_1630,
        [("2027-01-25T10:00:00+02:00", "2027-01-25T11:30:00+02:00")],
        None,
        "2027-01-25T12:00:00+02:00",
        "running",
        "2027-01-25T18:00:00+02:00",
        timedelta(hours=3),
    ),
    "a pause over the night and the weekend counts only its working hours (Fri 1 h, Mon 1 h)": row(
        KBS,
        "optima",
        "reaction",
        "2027-01-22T09:00:00+02:00",
        [("2027-01-22T17:00:00+02:00", "2027-01-25T10:00:00+02:00")],
        None,
        "2027-01-25T10:00:00+02:00",
        "running",
        "2027-01-25T11:00:00+02:00",
        timedelta(hours=8),
    ),
    "staff replied Monday 12:00: the reaction is met and its clock stops": row(
        KBS,
        "optima",
        "reaction",
        FRIDAY_1630,
        [("2027-01-25T10:00:00+02:00", "2027-01-25T11:30:00+02:00")],
        "2027-01-25T12:00:00+02:00",
        "2027-01-26T12:00:00+02:00",
        "met",
        "2027-01-25T18:00:00+02:00",
        timedelta(hours=3),
    ),
    "a reply after the due time is met late: breached": row(
        KBS,
        "premium",
        "reaction",
        "2027-01-25T09:00:00+02:00",
        [],
        "2027-01-25T14:00:00+02:00",
        "2027-01-25T15:00:00+02:00",
        "breached",
        "2027-01-25T13:00:00+02:00",
        timedelta(hours=4),
    ),
    "no reply by the due time: breached, all its time used": row(
        KBS,
        "premium",
        "reaction",
        "2027-01-25T09:00:00+02:00",
        [],
        None,
        "2027-01-25T13:00:01+02:00",
        "breached",
        "2027-01-25T13:00:00+02:00",
        timedelta(hours=4),
    ),
    "a pause that began after the due time rescues nothing": row(
        KBS,
        "premium",
        "reaction",
        "2027-01-25T09:00:00+02:00",
        [("2027-01-25T14:00:00+02:00", None)],
        None,
        "2027-01-25T15:00:00+02:00",
        "breached",
        "2027-01-25T13:00:00+02:00",
        timedelta(hours=4),
    ),
    "a pause after the target was met changes nothing": row(
        KBS,
        "premium",
        "reaction",
        "2027-01-25T09:00:00+02:00",
        [("2027-01-25T11:00:00+02:00", None)],
        "2027-01-25T10:00:00+02:00",
        "2027-01-25T16:00:00+02:00",
        "met",
        "2027-01-25T13:00:00+02:00",
        timedelta(hours=1),
    ),
    "reopened: the time it stood resolved is a pause of the resolution clock": row(
        KBS,
        "premium",
        "reaction",
        "2027-01-25T09:00:00+02:00",
        [("2027-01-25T10:00:00+02:00", "2027-01-26T10:00:00+02:00")],
        None,
        "2027-01-26T10:30:00+02:00",
        "running",
        "2027-01-26T13:00:00+02:00",
        timedelta(hours=1.5),
    ),
    "iiko's blocking error at 23:00 Omsk: due 01:30 round the clock": row(
        IIKO,
        "contract",
        "blocking",
        "2027-01-20T23:00:00+06:00",
        [],
        None,
        "2027-01-20T23:30:00+06:00",
        "running",
        "2027-01-21T01:30:00+06:00",
        timedelta(minutes=30),
    ),
    "a round-the-clock target pauses too: an hour waiting moves it to 02:30": row(
        IIKO,
        "contract",
        "blocking",
        "2027-01-20T23:00:00+06:00",
        [("2027-01-20T23:30:00+06:00", "2027-01-21T00:30:00+06:00")],
        None,
        "2027-01-21T01:00:00+06:00",
        "running",
        "2027-01-21T02:30:00+06:00",
        timedelta(hours=1),
    ),
}


@pytest.mark.parametrize(
    ("book", "plan", "target", "opened", "waits", "met", "now", "state", "due", "used"),
    CLOCKS.values(),
    ids=CLOCKS,
)
def test_a_tickets_clock(book, plan, target, opened, waits, met, now, state, due, used):
    clock = ticket_clock(
        book, plan, target, moment(opened), pauses(*waits), met and moment(met), moment(now)
    )
    assert (clock.state, clock.due.isoformat(), clock.used) == (state, due, used)


def test_a_paused_clock_says_since_when():
    clock = ticket_clock(
        KBS,
        "optima",
        "reaction",
        moment(FRIDAY_1630),
        pauses(("2027-01-25T10:00:00+02:00", None)),
        None,
        moment("2027-01-25T11:00:00+02:00"),
    )
    assert clock.paused_since == moment("2027-01-25T10:00:00+02:00")
    assert clock.used_share == pytest.approx(2.5 / 9)


def test_fifty_pauses_move_the_due_time_by_their_working_time():
    opened = moment("2027-01-04T09:00:00+02:00")  # a Monday
    # Fifty pauses of 30 minutes, each at 10:00 on the fifty working days from opened.
    calendar = KBS.calendars["office"]
    starts = [add_working_time(calendar, opened, timedelta(hours=1 + 9 * n)) for n in range(50)]
    waits = [Pause(start, start + timedelta(minutes=30)) for start in starts]
    clock = ticket_clock(
        KBS, "prof", "reaction", opened, waits, None, moment("2027-04-30T12:00:00+03:00")
    )
    # PROF: 2 working days. Only the pauses before the due time count: Monday's and Tuesday's.
    assert clock.due == add_working_time(calendar, opened, timedelta(hours=19))
    assert clock.state == "breached" and clock.used == clock.span


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        ("2027-01-22T16:30:00+02:00", 1),
        ("2027-01-22T16:30:00+02:00", 9),
        ("2027-12-30T12:00:00+02:00", 40),  # across the year's end
        ("2027-03-26T17:00:00+02:00", 20),  # across the spring change
    ],
)
def test_working_time_between_undoes_adding_it(start, hours):
    calendar = KBS.calendars["office"]
    span = timedelta(hours=hours, minutes=17, seconds=3)
    due = add_working_time(calendar, moment(start), span)
    assert working_time_between(calendar, moment(start), due) == span


# --- which targets a new ticket runs -------------------------------------------------------

# sentence: row(catalog, plan, claimed, targets)
TARGETS_OF_A_TICKET = {
    "every KBS ticket runs the reaction, nothing to claim": row(
        "kbs", "optima", None, ("reaction",)
    ),
    "every Iotex ticket runs the first response": row(
        "iotex", "premium", None, ("first-response",)
    ),
    "an iiko contract ticket runs the error type claimed": row(
        "iiko", "contract", "blocking", ("blocking",)
    ),
    "an iiko ticket that claims none runs none yet": row("iiko", "contract", None, ()),
    "a Crystals ticket is registered, and restored as claimed": row(
        "crystals", "garant", "restore", ("registration", "restore")
    ),
    "a Crystals consultation is registered and answered": row(
        "crystals", "garant", "consultation", ("registration", "consultation")
    ),
}


@pytest.mark.parametrize(
    ("book", "plan", "claimed", "targets"), TARGETS_OF_A_TICKET.values(), ids=TARGETS_OF_A_TICKET
)
def test_the_targets_a_new_ticket_runs(book, plan, claimed, targets):
    assert ticket_targets(catalog(book), plan, claimed) == targets


def test_the_targets_a_client_may_claim_are_the_catalogs_severities_in_order():
    assert claimable_targets(IIKO, "contract") == ("blocking", "critical", "important", "minor")
    assert "fix-eta" not in claimable_targets(catalog("crystals"), "garant")  # staff start it
    assert claimable_targets(KBS, "optima") == ()


@pytest.mark.parametrize(
    ("book", "plan", "claimed", "code"),
    [
        pytest.param(
            "kbs", "optima", "reaction", "target_not_claimable", id="claiming KBS's reaction"
        ),
        pytest.param(
            "crystals", "garant", "fix-eta", "target_not_claimable", id="claiming a fix date"
        ),
        pytest.param("iiko", "contract", "urgent", "target_not_claimable", id="an unknown target"),
        pytest.param("iiko", "gold", None, "unknown_plan", id="an unknown plan"),
    ],
)
def test_a_claim_the_plan_does_not_take_is_refused(book, plan, claimed, code):
    with pytest.raises(PlanError) as refused:
        ticket_targets(catalog(book), plan, claimed)
    assert refused.value.code == code
