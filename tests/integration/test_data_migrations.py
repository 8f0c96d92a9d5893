"""Migrations 0005 and 0006 tidy the rows an older database may hold before their indexes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.callbacks.services import request_key
from portal.extensions import db

CREATED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def old_app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def insert(connection, table: str, **values) -> int:
    """A row of ``table`` as the schema of the moment has it; the id it got."""
    rows = sa.Table(table, sa.MetaData(), autoload_with=connection)
    return connection.execute(rows.insert().values(**values)).inserted_primary_key[0]


def order(connection, organization: int, number: int, catalog: str = "kbs") -> int:
    return insert(
        connection,
        "orders",
        organization_id=organization,
        catalog=catalog,
        catalog_version=1,
        kind="new",
        plan="optima",
        term="7m",
        request="{}",
        lines="[]",
        total=40740,
        currency="UAH",
        coverage_start=date(2026, 11, 1),
        coverage_end=date(2027, 5, 31),
        status="pending_payment",
        created_at=CREATED,
        checkout_key=f"key-{organization}-{number}",
    )


def invoice(connection, number: str, order_id: int, organization: int, payer: str) -> int:
    """An open bank-transfer invoice of ``order_id``."""
    return insert(
        connection,
        "documents",
        kind="invoice",
        number=number,
        order_id=order_id,
        organization_id=organization,
        status="open",
        issued_at=CREATED,
        due_on=date(2026, 11, 11),
        total=40740,
        currency="UAH",
        bill_to_name=payer,
    )


def statuses(connection, table: str) -> dict[int, str]:
    rows = connection.execute(sa.text(f"SELECT id, status FROM {table} ORDER BY id"))
    return dict(rows.fetchall())


def test_0005_keeps_the_pending_order_being_paid_and_cancels_the_copies(old_app):
    with old_app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            acme = insert(
                connection,
                "organizations",
                name="Acme",
                language="uk",
                timezone="Europe/Kyiv",
                created_at=CREATED,
            )
            globex = insert(
                connection,
                "organizations",
                name="Globex",
                language="uk",
                timezone="Europe/Kyiv",
                created_at=CREATED,
            )
            invoiced = order(connection, acme, 1)
            copy = order(connection, acme, 2)  # newer, but the client pays the first
            alone = order(connection, globex, 1)
            older = order(connection, globex, 2, catalog="iiko")
            newest = order(connection, globex, 3, catalog="iiko")
            paid_into = invoice(connection, "INV-000001", invoiced, acme, "Acme")
            # Both of Globex's iiko orders were invoiced: the newest stays.
            older_invoice = invoice(connection, "INV-000002", older, globex, "Globex")
            newest_invoice = invoice(connection, "INV-000003", newest, globex, "Globex")
        upgrade(revision="0005")
        with db.engine.connect() as connection:
            orders, documents = statuses(connection, "orders"), statuses(connection, "documents")
        assert orders == {
            invoiced: "pending_payment",
            copy: "cancelled",
            alone: "pending_payment",
            older: "cancelled",
            newest: "pending_payment",
        }
        assert documents == {paid_into: "open", older_invoice: "void", newest_invoice: "open"}
        downgrade(revision="0004")


def test_0006_keys_the_oldest_open_request_of_each_caller(old_app):
    with old_app.app_context():
        upgrade(revision="0005")
        requests = {}
        with db.engine.begin() as connection:
            for token, name, closed in (
                ("first", "Oksana", None),
                ("again", " oksana ", None),  # the same caller, a second click
                ("colleague", "Mallory", None),
                ("done", "Oksana", CREATED),
            ):
                requests[token] = insert(
                    connection,
                    "callback_requests",
                    token=token,
                    kind="callback",
                    catalog="kbs",
                    catalog_version=1,
                    plan="optima",
                    options="",
                    name=name,
                    phone="+380671234567",
                    preferred_time="asap",
                    locale="uk",
                    created_at=CREATED,
                    closed_at=closed,
                    consent=True,
                )
        upgrade(revision="0006")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT token, open_key FROM callback_requests"))
            keys = dict(rows.fetchall())
        assert keys == {
            "first": request_key("kbs", "+380671234567", "callback", "optima", "Oksana"),
            "again": None,
            "colleague": request_key("kbs", "+380671234567", "callback", "optima", "Mallory"),
            "done": None,
        }
        downgrade(revision="0005")
