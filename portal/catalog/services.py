"""Use cases around catalogs: publishing numbered versions and reading the active one.

The database is the record of what was offered: the active catalog file is
imported as version 1 on first use, later versions are published by admins or
by ``flask catalog publish``, and the portal prices from the version in effect:
the newest whose ``effective_at`` has come (a version may be scheduled for a
midnight in the catalog's zone).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import ChainMap
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor, record
from portal.models import CatalogVersion
from portal.plans import Catalog, load_catalog, parse_catalog
from portal.plans.loading import (
    BUNDLED_FILES,
    bundled_catalog_names,
    bundled_catalog_path,
    catalog_code_of,
    read_catalog_source,
)

# Parsed catalogs by (name, version, checksum): a published version never changes, so an
# entry never goes stale; the checksum keeps apart databases that numbered differently.
_parsed: dict[tuple[str, int, str], Catalog] = {}
_names: dict[str, str] = {}
# The version in effect seen per (database, catalog name): (monotonic time, version,
# checksum, when the next scheduled version takes effect or None).
_newest_seen: dict[tuple[str, str], tuple[float, int, str, datetime | None]] = {}
# The checksum of each (database, name, version) asked for: a published version never
# changes (CatalogVersion refuses updates), so a list of 1,000 orders asks once, not 1,000 times.
_checksums: dict[tuple[str, str, int], str] = {}
_lock = threading.Lock()


class NoSuchVersion(LookupError):
    pass


class TooEarly(ValueError):
    """A version may not take effect before a version published earlier: ``after`` is when
    that one does."""

    def __init__(self, after: datetime):
        self.after = after
        super().__init__(f"a version takes effect at {after.isoformat()}: publish from then on")


def catalog_name(setting: str) -> str:
    """The catalog name of a ``PORTAL_CATALOG`` setting: a bundled name, or a file's own code."""
    if setting in bundled_catalog_names():
        return setting
    if setting not in _names:
        _names[setting] = load_catalog(setting).code
    return _names[setting]


def publish(
    session: Session,
    source: str,
    origin: str,
    now: datetime,
    files: Mapping[str, bytes] | None = None,
    actor: Actor | None = None,
    effective_at: datetime | None = None,
) -> CatalogVersion:
    """Validate ``source`` and publish it as the next version of its catalog; commits.
    ``actor``: who published it, for the audit log (the import on first use has none).
    ``effective_at``: when it starts to price (``now`` by default); never before the newest
    version does (:class:`TooEarly`), so versions take effect in the order they were made.

    ``files`` are the files the text names (the provider's logo), read beside a catalog
    file; a logo not among them is the newest version's file of that name, else the
    bundled catalogs' one. The version keeps the logo's bytes. Publishing a text and logo
    identical to the newest version publishes nothing and returns that version. Raises
    :class:`portal.plans.CatalogError` for a bad file.
    """
    code = catalog_code_of(source)
    newest = _newest(session, code) if code else None
    known = {newest.logo_name: newest.logo} if newest is not None and newest.logo else {}
    catalog = parse_catalog(
        source, source=origin, files=ChainMap(files or {}, known, BUNDLED_FILES)
    )
    newest = newest if newest is not None and newest.name == catalog.code else None
    logo = catalog.provider.logo if catalog.provider else None
    checksum = _checksum(source, logo.content if logo else None)
    if newest is not None and newest.checksum == checksum:
        return newest
    effective_at = max(effective_at or now, now)
    if newest is not None and effective_at < newest.effective_at:
        raise TooEarly(newest.effective_at)
    row = CatalogVersion(
        name=catalog.code,
        version=(newest.version + 1) if newest else 1,
        source=source,
        checksum=checksum,
        origin=origin,
        published_at=now,
        effective_at=effective_at,
        logo_name=logo.name if logo else None,
        logo=logo.content if logo else None,
    )
    session.add(row)
    if actor is not None:
        record(
            session,
            actor,
            "catalog.published",
            f"{row.name} {row.version}",
            before={"version": newest.version if newest else None},
            after={
                "version": row.version,
                "checksum": checksum,
                "origin": origin,
                "effective_at": effective_at.isoformat(),
            },
            now=now,
        )
    try:
        session.commit()
    except IntegrityError:
        # Another process published the same version number first: take theirs.
        session.rollback()
        row = _newest(session, catalog.code)
    _newest_seen.pop((_database(session), row.name), None)
    return row


def active_catalog(
    session: Session, setting: str, now: datetime, refresh_seconds: float = 0.0
) -> Catalog:
    """The version of the ``PORTAL_CATALOG`` catalog in effect at ``now``: the newest whose
    time has come; the catalog file is imported as version 1 on first use.

    The database is asked which version is in effect at most every ``refresh_seconds``
    (a version published by this process is seen at once, one published by another
    worker within that time), and again as soon as a scheduled one's time comes. Every
    quote names the version it was priced from, so a quote made in that window stands at
    the price it showed.
    """
    name = catalog_name(setting)
    seen = _in_effect(session, name, now, refresh_seconds)
    if seen is None:
        path = bundled_catalog_path(setting)
        text, files = read_catalog_source(path)
        return _remember(publish(session, text, path.name, now, files))
    return _cached(session, name, seen[1], seen[2])


def next_change(
    session: Session, setting: str, now: datetime, refresh_seconds: float = 0.0
) -> datetime | None:
    """When the next scheduled version of the ``PORTAL_CATALOG`` catalog takes effect."""
    seen = _in_effect(session, catalog_name(setting), now, refresh_seconds)
    return seen[3] if seen is not None else None


def _in_effect(session: Session, name: str, now: datetime, refresh_seconds: float):
    key = (_database(session), name)
    seen = _newest_seen.get(key)
    if (
        seen is not None
        and time.monotonic() - seen[0] < refresh_seconds
        and (seen[3] is None or now < seen[3])
        and (name, seen[1], seen[2]) in _parsed
    ):
        return seen
    current = session.execute(
        select(CatalogVersion.version, CatalogVersion.checksum)
        .where(CatalogVersion.name == name, CatalogVersion.effective_at <= now)
        .order_by(CatalogVersion.version.desc())
        .limit(1)
    ).first()
    if current is None:
        return None
    upcoming = session.execute(
        select(func.min(CatalogVersion.effective_at)).where(
            CatalogVersion.name == name,
            CatalogVersion.effective_at > now,
            CatalogVersion.version > current.version,
        )
    ).scalar()
    seen = (time.monotonic(), current.version, current.checksum, upcoming)
    _newest_seen[key] = seen
    return seen


def scheduled_versions(session: Session, name: str, now: datetime) -> list[CatalogVersion]:
    """The versions of catalog ``name`` published to take effect after ``now``, soonest first."""
    return list(
        session.scalars(
            select(CatalogVersion)
            .where(CatalogVersion.name == name, CatalogVersion.effective_at > now)
            .order_by(CatalogVersion.version)
        )
    )


def newest_version(session: Session, name: str) -> CatalogVersion | None:
    """The newest version of catalog ``name``, in effect or scheduled."""
    return _newest(session, name)


def catalog_version(session: Session, name: str, version: int) -> Catalog:
    """Version ``version`` of catalog ``name``, as it was published (read once per process)."""
    key = (_database(session), name, version)
    checksum = _checksums.get(key)
    if checksum is None:
        checksum = session.execute(
            select(CatalogVersion.checksum).where(
                CatalogVersion.name == name, CatalogVersion.version == version
            )
        ).scalar()
        if checksum is None:
            raise NoSuchVersion(f"catalog {name} has no version {version}")
        _checksums[key] = checksum
    return _cached(session, name, version, checksum)


def _cached(session: Session, name: str, version: int, checksum: str) -> Catalog:
    catalog = _parsed.get((name, version, checksum))
    if catalog is None:
        row = session.execute(
            select(CatalogVersion).where(
                CatalogVersion.name == name, CatalogVersion.version == version
            )
        ).scalar_one()
        catalog = _remember(row)
    return catalog


def versions(session: Session, name: str | None = None) -> list[CatalogVersion]:
    query = select(CatalogVersion).order_by(CatalogVersion.name, CatalogVersion.version)
    if name is not None:
        query = query.where(CatalogVersion.name == name)
    return list(session.execute(query).scalars())


def forget_newest() -> None:
    """Forget which versions were seen newest, and their checksums, as after a database was
    emptied (tests)."""
    _newest_seen.clear()
    _checksums.clear()


def _checksum(source: str, logo: bytes | None) -> str:
    """What identifies a version's content: its text, and its logo when it has one."""
    digest = hashlib.sha256(source.encode())
    if logo is not None:
        digest.update(b"\0logo\0" + logo)
    return digest.hexdigest()


def _database(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=True)


def _newest(session: Session, name: str) -> CatalogVersion | None:
    return session.execute(
        select(CatalogVersion).where(
            CatalogVersion.name == name,
            CatalogVersion.version
            == select(func.max(CatalogVersion.version))
            .where(CatalogVersion.name == name)
            .scalar_subquery(),
        )
    ).scalar_one_or_none()


def _remember(row: CatalogVersion) -> Catalog:
    key = (row.name, row.version, row.checksum)
    with _lock:
        if key not in _parsed:
            files = {row.logo_name: row.logo} if row.logo_name and row.logo else {}
            _parsed[key] = parse_catalog(
                row.source, source=f"{row.name} v{row.version}", files=files
            ).with_version(row.version, row.checksum)
        return _parsed[key]
