"""What a new ticket is: its categories, the plan it runs, its targets, and its files' names
and types as the portal reads them from their content."""

from __future__ import annotations

import pytest
from conftest import catalog, row

from portal.plans import PlanError
from portal.plans.tickets import (
    category_of,
    defect_target,
    new_ticket_targets,
    ticket_categories,
    ticket_plan,
)
from portal.tickets.attachments import content_type, safe_name

CATEGORIES = {
    "KBS offers support and development requests": row("kbs", ["support", "development"]),
    "Crystals adds its three out-of-scope areas": row(
        "crystals", ["support", "third-party", "erp-connector", "channels", "development"]
    ),
}


@pytest.mark.parametrize(("book", "codes"), CATEGORIES.values(), ids=CATEGORIES)
def test_the_filing_forms_categories(book, codes):
    assert [c.code for c in ticket_categories(catalog(book))] == codes


def test_an_out_of_scope_category_says_what_help_is_given_instead():
    third_party = category_of(catalog("crystals"), "third-party")
    assert third_party.kind == "out-of-scope" and third_party.has_sla
    assert third_party.help["en"].startswith("Consultations on diagnosing")
    assert not category_of(catalog("crystals"), "development").has_sla


def test_an_unknown_category_is_refused_naming_the_known_ones():
    with pytest.raises(PlanError) as refused:
        category_of(catalog("kbs"), "astrology")
    assert (refused.value.code, refused.value.field) == ("unknown_category", "category")
    assert "support, development" in str(refused.value)


PLANS = {
    "an active plan with promises is the ticket's plan": row("kbs", "optima", "optima"),
    "an iiko client without a plan runs the one-off promises": row("iiko", None, "one-off"),
    "a KBS client without a plan runs none": row("kbs", None, None),
    "a Kvartplata client's plan promises nothing": row("kvartplata", None, None),
}


@pytest.mark.parametrize(("book", "active", "plan"), PLANS.values(), ids=PLANS)
def test_the_plan_a_new_ticket_runs(book, active, plan):
    assert ticket_plan(catalog(book), active) == plan


TARGETS = {
    "a KBS support ticket runs the reaction": row("kbs", "optima", "support", None, ("reaction",)),
    "an iiko blocking error runs its target": row(
        "iiko", "contract", "support", "blocking", ("blocking",)
    ),
    "a Crystals restore claim runs registration too": row(
        "crystals", "garant", "support", "restore", ("registration", "restore")
    ),
    "out of scope: only what every ticket runs": row(
        "crystals", "garant", "third-party", None, ("registration",)
    ),
    "a development request runs nothing": row("crystals", "garant", "development", None, ()),
    "no plan, no targets": row("kbs", None, "support", None, ()),
}


@pytest.mark.parametrize(
    ("book", "plan", "category", "claimed", "targets"), TARGETS.values(), ids=TARGETS
)
def test_the_targets_a_new_ticket_runs_by_category(book, plan, category, claimed, targets):
    assert new_ticket_targets(catalog(book), plan, category, claimed) == targets


REFUSED = {
    "an iiko support ticket must say how serious it is": row(
        "iiko", "contract", "support", None, "target_required"
    ),
    "an out-of-scope ticket claims no target": row(
        "crystals", "garant", "third-party", "restore", "target_not_claimable"
    ),
}


@pytest.mark.parametrize(
    ("book", "plan", "category", "claimed", "code"), REFUSED.values(), ids=REFUSED
)
def test_a_new_ticket_the_engine_refuses(book, plan, category, claimed, code):
    with pytest.raises(PlanError) as refused:
        new_ticket_targets(catalog(book), plan, category, claimed)
    assert (refused.value.code, refused.value.field) == (code, "target")


def test_only_crystals_has_a_confirmed_defects_fix_date_target():
    assert defect_target(catalog("crystals"), "garant") == "fix-eta"
    assert defect_target(catalog("kbs"), "optima") is None


NAMES = {
    "a path is dropped": row("../../etc/passwd.txt", "passwd.txt"),
    "a Windows path too": row("C:\\Users\\olena\\screen.png", "screen.png"),
    "control characters and leading dots go": row("..\x00.hid\nden.png", "hidden.png"),
    "nothing left is a file": row("../..", "file"),
    "a long name keeps its extension": row("a" * 300 + ".xlsx", "a" * 115 + ".xlsx"),
    "letters of any script stay": row("Звіт за листопад.pdf", "Звіт за листопад.pdf"),
}


@pytest.mark.parametrize(("sent", "kept"), NAMES.values(), ids=NAMES)
def test_a_files_name_made_safe(sent, kept):
    assert safe_name(sent) == kept


TYPES = {
    "a PNG by its magic numbers": row(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png"),
    "a PDF": row(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    "a Windows program, whatever its name": row(
        b"MZ\x90\x00\x03\x00\x00\x00", "application/x-msdownload"
    ),
    "UTF-8 text is text": row("Помилка 0x13\r\n".encode(), "text/plain"),
    "text cut inside a letter is still text": row("Помилка".encode()[:-1], "text/plain"),
    "bytes that are no text and no known type": row(b"\x00\x01\x02\x03garbage", None),
}


@pytest.mark.parametrize(("head", "mime"), TYPES.values(), ids=TYPES)
def test_a_files_type_read_from_its_content(head, mime):
    assert content_type(head) == mime
