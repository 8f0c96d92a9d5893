"""Lists that grow with data: a page at a time, searchable, and the same number of queries
whether there are a few rows or many."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from portal.catalog.current import current_catalog
from portal.extensions import db
from portal.listing import ListQuery
from tests.seed import orders_of, seed

STAFF_LISTS = [
    "/staff/organizations",
    "/staff/callbacks",
    "/staff/invoices",
    "/staff/invoices?status=paid",
    "/staff/outbox",
    "/staff/organizations?q=owner1",
]


@contextmanager
def counting(app):
    """The statements the database is sent while the block runs."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def seeded(app, organizations: int) -> list[int]:
    with app.app_context():
        current_catalog()  # the catalog's version 1, which the orders were priced from
        return seed(db.session, organizations)


def queries(app, client, path: str) -> int:
    client.get(path)  # once to warm what a first request reads once per process
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", STAFF_LISTS)
def test_a_staff_list_runs_as_many_queries_for_60_rows_as_for_3(app, client, staff, path):
    seeded(app, 3)
    few = queries(app, client, path)
    seeded(app, 57)
    many = queries(app, client, path)
    assert many == few, f"{path}: {few} queries for 3 rows, {many} for 60"
    assert few <= 12


def test_the_account_page_runs_as_many_queries_for_40_orders_as_for_2(app, form_client):
    (organization_id,) = seeded(app, 1)
    owner = form_client(app.test_client())
    owner.sign_in("owner1@example.com")
    with app.app_context():
        orders_of(db.session, organization_id, 1)
    few = queries(app, owner.client, "/account")
    with app.app_context():
        orders_of(db.session, organization_id, 38)
    many = queries(app, owner.client, "/account")
    assert many == few, f"{few} queries for 2 orders, {many} for 40"


def test_the_account_page_shows_ten_orders_and_leads_to_the_older_ones(app, form_client):
    (organization_id,) = seeded(app, 1)
    with app.app_context():
        orders_of(db.session, organization_id, 14)
    owner = form_client(app.test_client())
    owner.sign_in("owner1@example.com")
    first = owner.client.get("/account?lang=en").get_data(as_text=True)
    assert first.count('data-order="') == 10
    assert 'href="?lang=en&amp;orders=2#orders-heading"' in first
    second = owner.client.get("/account?orders=2&lang=en").get_data(as_text=True)
    assert second.count('data-order="') == 5
    assert second.count('data-document="') == 10  # the documents keep their own page
    # Paging the documents keeps the orders' page, and back.
    assert 'href="?orders=2&amp;lang=en&amp;documents=2#documents-heading"' in second
    both = owner.client.get("/account?orders=2&documents=2").get_data(as_text=True)
    assert 'href="?documents=2#orders-heading"' in both  # newer orders, documents kept


@pytest.mark.parametrize(
    ("address", "changes", "link"),
    [
        pytest.param({}, {"page": 2}, {"page": "2"}, id="the second page of a plain list"),
        pytest.param({"page": "3"}, {"page": 1}, {}, id="the first page leaves the number out"),
        pytest.param(
            {"q": "acme", "status": "paid"},
            {"page": 2},
            {"q": "acme", "status": "paid", "page": "2"},
            id="a page of a search keeps the words and the filter",
        ),
        pytest.param(
            {"documents": "4", "lang": "fa"},
            {"page": 2},
            {"documents": "4", "lang": "fa", "orders": "2"},
            id="another list's page and the language are kept",
        ),
        pytest.param({"page": "٣"}, {}, {}, id="a page number in other digits is the first"),
    ],
)
def test_a_lists_links_change_only_what_they_change(address, changes, link):
    filters = {"status": ("open", "paid")}
    page_key = "orders" if "documents" in address else "page"
    asked = ListQuery.from_args(address, filters, page_key=page_key)
    assert asked.args(**changes) == link


def test_staff_page_through_the_organizations(client, staff, app):
    seeded(app, 60)
    first = client.get("/staff/organizations?lang=en").get_data(as_text=True)
    assert first.count("data-organization=") == 50
    assert "1–50 of 60" in first
    second = client.get("/staff/organizations?page=2&lang=en").get_data(as_text=True)
    assert second.count("data-organization=") == 10 and "51–60 of 60" in second


@pytest.mark.parametrize(
    ("path", "search", "found"),
    [
        pytest.param(
            "/staff/organizations", "Organization 000007", 1, id="an organization by name"
        ),
        pytest.param("/staff/organizations", "38000012", 1, id="an organization by tax number"),
        pytest.param("/staff/organizations", "OWNER5@EXAMPLE", 1, id="by a person's e-mail"),
        pytest.param("/staff/organizations", "nobody-like-this", 0, id="nothing matches"),
        pytest.param("/staff/callbacks", "Caller 39", 1, id="a call-back by name"),
        pytest.param("/staff/callbacks", "0000009", 1, id="a call-back by phone digits"),
        pytest.param("/staff/invoices", "INV-000004", 1, id="an invoice by number"),
        pytest.param("/staff/invoices", "38000020", 1, id="an invoice by the payer's tax number"),
    ],
)
def test_staff_search_each_list(client, staff, app, path, search, found):
    seeded(app, 40)
    html = client.get(path, query_string={"q": search, "lang": "en"}).get_data(as_text=True)
    marks = {
        "/staff/organizations": "data-organization=",
        "/staff/callbacks": "data-request=",
        "/staff/invoices": "data-invoice=",
    }
    assert html.count(marks[path]) == found
    if not found:
        assert "No organization matches." in html


def test_a_search_with_percent_signs_finds_them_as_they_are(client, staff, app):
    seeded(app, 5)
    html = client.get("/staff/organizations?q=%25&lang=en").get_data(as_text=True)
    assert "No organization matches." in html
