"""Catalogs live in the database as numbered, immutable versions; quotes name theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.catalog import services
from portal.extensions import db
from portal.models import CatalogVersion, ImmutableRowError
from portal.plans import CatalogError, Term
from portal.plans.loading import bundled_catalog_path

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
KBS = bundled_catalog_path("kbs").read_text(encoding="utf-8")
LOGO = bundled_catalog_path("kbs").with_name("kbs.svg").read_bytes()


def with_optima_7m_at(price: int) -> str:
    return KBS.replace("7m = 40740", f"7m = {price}", 1)


def test_the_active_catalog_is_imported_as_version_1_on_first_use(session):
    assert services.versions(session) == []
    catalog = services.active_catalog(session, "kbs", NOW)
    assert catalog.version == 1
    rows = services.versions(session)
    assert [(row.name, row.version, row.origin) for row in rows] == [("kbs", 1, "kbs.toml")]


def test_a_second_use_reads_the_same_version_without_importing_again(session):
    services.active_catalog(session, "kbs", NOW)
    services.active_catalog(session, "kbs", NOW)
    assert len(services.versions(session)) == 1


def test_publishing_a_changed_price_list_makes_version_2_the_one_priced_from(client, app):
    assert client.get("/api/v1/quote?plan=optima&term=7m").json["total"] == "40740.00"
    with app.app_context():
        row = services.publish(db.session, with_optima_7m_at(41000), "admin edit", NOW)
        assert row.version == 2
    body = client.get("/api/v1/quote?plan=optima&term=7m").json
    assert (body["total"], body["catalog_version"]) == ("41000.00", 2)


def test_an_earlier_version_still_prices_as_it_did(session):
    services.active_catalog(session, "kbs", NOW)
    services.publish(session, with_optima_7m_at(41000), "admin edit", NOW)
    first = services.catalog_version(session, "kbs", 1)
    second = services.catalog_version(session, "kbs", 2)
    assert first.plans["optima"].terms[_seven_months()].price == 40740
    assert second.plans["optima"].terms[_seven_months()].price == 41000


def test_publishing_the_same_text_again_publishes_nothing(session):
    first = services.publish(session, KBS, "kbs.toml", NOW)
    again = services.publish(session, KBS, "kbs.toml", NOW)
    assert (first.version, again.version) == (1, 1)


def test_a_bad_catalog_is_refused_with_its_location_and_nothing_is_published(session):
    with pytest.raises(
        CatalogError, match=r"^admin edit: plans\.optima\.terms\.13m: months must be 1\.\.12$"
    ):
        services.publish(session, KBS.replace("7m = 40740", "13m = 40740"), "admin edit", NOW)
    assert services.versions(session) == []


def test_a_published_version_cannot_be_changed_or_deleted(session):
    row = services.publish(session, KBS, "kbs.toml", NOW)
    row.source = with_optima_7m_at(1)
    with pytest.raises(ImmutableRowError):
        session.commit()
    session.rollback()
    session.delete(session.get(CatalogVersion, row.id))
    with pytest.raises(ImmutableRowError):
        session.commit()
    session.rollback()
    assert session.get(CatalogVersion, row.id).source == KBS


def test_two_versions_with_the_same_number_are_refused_by_the_database(session):
    services.publish(session, KBS, "kbs.toml", NOW)
    session.execute(
        sa.insert(CatalogVersion).values(
            name="kbs",
            version=2,
            source=KBS,
            checksum="x",
            origin="a",
            published_at=NOW,
            effective_at=NOW,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(
            sa.insert(CatalogVersion).values(
                name="kbs",
                version=2,
                source=KBS,
                checksum="y",
                origin="b",
                published_at=NOW,
                effective_at=NOW,
            )
        )
    session.rollback()


def test_a_catalog_file_given_by_path_is_kept_under_its_own_code(make_app, tmp_path):
    path = tmp_path / "my-prices.toml"
    path.write_text(KBS, encoding="utf-8")
    (tmp_path / "kbs.svg").write_bytes(LOGO)
    client = make_app(PORTAL_CATALOG=str(path)).test_client()
    body = client.get("/api/v1/catalog").json
    assert (body["code"], body["version"]) == ("kbs", 1)


def test_a_catalog_file_without_the_logo_it_names_answers_503_with_the_reason(make_app, tmp_path):
    path = tmp_path / "my-prices.toml"
    path.write_text(KBS, encoding="utf-8")
    response = make_app(PORTAL_CATALOG=str(path)).test_client().get("/api/v1/catalog")
    assert response.status_code == 503
    assert "provider.logo: the file 'kbs.svg' does not exist beside the catalog" in (
        response.get_data(as_text=True)
    )


def test_a_version_keeps_its_logo_and_a_new_logo_is_a_new_version(session, tmp_path):
    first = services.publish(session, KBS, "kbs.toml", NOW)
    assert (first.logo_name, first.logo) == ("kbs.svg", LOGO)
    edited = services.publish(session, KBS, "kbs.toml", NOW, {"kbs.svg": LOGO + b"\n"})
    assert (edited.version, edited.logo) == (2, LOGO + b"\n")
    # A text edited without a file keeps the newest version's logo.
    third = services.publish(session, with_optima_7m_at(41000), "admin edit", NOW)
    assert (third.version, third.logo) == (3, LOGO + b"\n")


def test_a_broken_catalog_file_answers_503_with_the_located_reason(make_app, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(KBS.replace("7m = 40740", "13m = 40740"), encoding="utf-8")
    client = make_app(PORTAL_CATALOG=str(path)).test_client()
    response = client.get("/api/v1/catalog")
    assert response.status_code == 503
    assert (
        "broken.toml: plans.optima.terms.13m: months must be 1..12"
        in response.json["error"]["message"]
    )


def test_flask_catalog_publish_and_versions(runner, tmp_path):
    path = tmp_path / "kbs-2027.toml"
    path.write_text(with_optima_7m_at(41000), encoding="utf-8")
    assert "kbs version 1" in runner.invoke(args=["catalog", "publish", "kbs"]).output
    assert "kbs version 2" in runner.invoke(args=["catalog", "publish", str(path)]).output
    listing = runner.invoke(args=["catalog", "versions"]).output
    assert "kbs\tv1" in listing and "kbs\tv2" in listing and "kbs-2027.toml" in listing


def test_flask_catalog_check_reports_a_mistake_without_a_traceback(runner, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(KBS.replace('hours = "09:00-18:00"', 'hours = "18:00-09:00"'), encoding="utf-8")
    result = runner.invoke(args=["catalog", "check", str(path)])
    assert result.exit_code == 1
    assert "broken.toml: calendars.office.hours: '18:00-09:00' must be HH:MM-HH:MM" in result.output
    assert "Traceback" not in result.output
    assert runner.invoke(args=["catalog", "check", "iiko"]).output.startswith("iiko: 2 plans")


def _seven_months():
    return Term("months", 7)


def test_a_version_published_by_this_process_is_priced_from_at_once(make_app):
    app = make_app(CATALOG_REFRESH_SECONDS=60)
    client = app.test_client()
    assert client.get("/api/v1/quote?plan=optima&term=7m").json["catalog_version"] == 1
    with app.app_context():
        services.publish(db.session, with_optima_7m_at(41000), "admin edit", NOW)
    body = client.get("/api/v1/quote?plan=optima&term=7m").json
    assert (body["total"], body["catalog_version"]) == ("41000.00", 2)


# --- versions scheduled for a day -------------------------------------------------------------

KYIV = ZoneInfo("Europe/Kyiv")
# Midnight of 1 January 2027 in the catalog's zone (Kyiv, UTC+2 in winter).
MIDNIGHT = datetime(2027, 1, 1, 0, 0, tzinfo=KYIV)


@pytest.mark.parametrize(
    ("asked_at", "version", "total"),
    [
        pytest.param(
            MIDNIGHT - timedelta(seconds=1),
            1,
            "40740.00",
            id="a second before midnight in Kyiv: the old price",
        ),
        pytest.param(MIDNIGHT, 2, "44000.00", id="at midnight in Kyiv: the new price"),
        pytest.param(
            datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
            2,
            "44000.00",
            id="23:00 UTC on 31 December is already 1 January in Kyiv",
        ),
        pytest.param(
            datetime(2026, 12, 31, 21, 59, tzinfo=UTC),
            1,
            "40740.00",
            id="21:59 UTC on 31 December is still 2026 in Kyiv",
        ),
    ],
)
def test_a_version_scheduled_for_a_day_prices_from_midnight_in_the_catalogs_zone(
    session, asked_at, version, total
):
    services.publish(session, KBS, "kbs.toml", NOW)
    services.publish(session, with_optima_7m_at(44000), "admin draft", NOW, effective_at=MIDNIGHT)
    catalog = services.active_catalog(session, "kbs", asked_at)
    assert catalog.version == version
    assert str(catalog.plans["optima"].terms[_seven_months()].price) == total


def test_until_a_scheduled_version_takes_effect_the_day_it_does_is_known(session):
    services.publish(session, KBS, "kbs.toml", NOW)
    assert services.next_change(session, "kbs", NOW) is None
    services.publish(session, with_optima_7m_at(44000), "admin draft", NOW, effective_at=MIDNIGHT)
    assert services.next_change(session, "kbs", NOW) == MIDNIGHT
    assert services.next_change(session, "kbs", MIDNIGHT) is None


def test_a_version_taking_effect_before_a_scheduled_one_is_refused(session):
    services.publish(session, KBS, "kbs.toml", NOW)
    services.publish(session, with_optima_7m_at(44000), "admin draft", NOW, effective_at=MIDNIGHT)
    with pytest.raises(services.TooEarly):
        services.publish(session, with_optima_7m_at(45000), "admin draft", NOW)
    assert [row.version for row in services.versions(session)] == [1, 2]


def test_a_cached_version_gives_way_to_a_scheduled_one_when_its_time_comes(session):
    services.publish(session, KBS, "kbs.toml", NOW)
    services.publish(session, with_optima_7m_at(44000), "admin draft", NOW, effective_at=MIDNIGHT)
    before = services.active_catalog(session, "kbs", MIDNIGHT - timedelta(minutes=1), 3600)
    after = services.active_catalog(session, "kbs", MIDNIGHT, 3600)
    assert (before.version, after.version) == (1, 2)
