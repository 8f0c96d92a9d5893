"""Use cases of the catalog draft: admins edit a copy of the newest version, see what they
changed, and publish it as a new version, now or from a day.

A draft is one TOML text per catalog (:class:`portal.models.CatalogDraft`). Every save
validates the whole edited text as a catalog file is validated, so a draft is always a
catalog that could be published, and compares and sets: it names each value as it was when
the admin saw it, and a value another admin changed meanwhile refuses the save with theirs
(:class:`Stale`) instead of overwriting it. Each save locks the draft's row, is audited
and committed in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, NoResultFound
from sqlalchemy.orm import Session

from portal.audit import Actor, record
from portal.catalog import services
from portal.locking import locked_row
from portal.models import CatalogDraft, CatalogVersion
from portal.plans import Catalog, CatalogError, editing, parse_catalog
from portal.plans.loading import BUNDLED_FILES, catalog_code_of


@dataclass(frozen=True)
class Stale:
    """A value the admin saw as ``yours_was`` that is ``now_is`` in the draft."""

    path: str
    yours_was: str
    now_is: str


class DraftError(ValueError):
    """Why a draft use case refused: ``code`` (``no_draft``, ``no_version``, ``stale``,
    ``invalid``, ``edit``, ``other_catalog``, ``base_moved``, ``too_early``, ``no_changes``,
    ``logo_type``) and what it is about."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code)


def draft_of(session: Session, name: str) -> CatalogDraft | None:
    return session.scalar(select(CatalogDraft).where(CatalogDraft.name == name))


def start_draft(session: Session, name: str, actor: Actor, now: datetime) -> CatalogDraft:
    """The draft of catalog ``name``, started from its newest version if there is none;
    commits. Two admins starting at once share one draft."""
    draft = draft_of(session, name)
    if draft is not None:
        return draft
    newest = services.newest_version(session, name)
    if newest is None:
        raise DraftError("no_version")
    draft = CatalogDraft(
        name=name,
        base_version=newest.version,
        source=newest.source,
        created_at=now,
        created_by_id=actor.user_id,
        updated_at=now,
        updated_by=actor.name[:320],
        # Its logo with it: a version published meanwhile with another logo changes nothing
        # the draft reads.
        logo_name=newest.logo_name,
        logo=newest.logo,
    )
    session.add(draft)
    record(
        session,
        actor,
        "catalog.draft_started",
        f"{name} draft",
        before={},
        after={"from_version": newest.version},
        now=now,
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another admin started it first: edit theirs
        draft = draft_of(session, name)
        assert draft is not None
    return draft


def draft_catalog(
    session: Session,
    draft: CatalogDraft,
    source: str | None = None,
    logo: tuple[str, bytes] | None = None,
) -> Catalog:
    """The draft (or ``source`` in its place) as a catalog, with its logo (``logo``, the
    draft's, else its version's); raises :class:`CatalogError` for a text that is not a
    valid catalog."""
    return parse_catalog(
        draft.source if source is None else source,
        source=f"{draft.name} draft",
        files=_files(session, draft, logo),
    )


def _files(
    session: Session, draft: CatalogDraft, logo: tuple[str, bytes] | None = None
) -> ChainMap:
    """The files the draft's text may name: its own logo, then the newest version's, then
    the bundled catalogs'."""
    own = dict([logo]) if logo else {}
    if draft.logo_name and draft.logo:
        own.setdefault(draft.logo_name, draft.logo)
    return ChainMap(own, *_version_files(session, draft.name).maps)


def _version_files(session: Session, name: str) -> ChainMap:
    """The newest version's logo, then the bundled catalogs' files."""
    newest = services.newest_version(session, name)
    known = {newest.logo_name: newest.logo} if newest and newest.logo_name and newest.logo else {}
    return ChainMap(known, BUNDLED_FILES)


LOGO_NAMES = {".svg": "logo.svg", ".png": "logo.png"}


def set_logo(
    session: Session, name: str, filename: str, content: bytes, actor: Actor, now: datetime
) -> CatalogDraft:
    """Make an uploaded image the draft's logo (``provider.logo``), checked as a catalog
    file's logo is (an SVG or PNG, at most 256 KB, what its name says); commits."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in LOGO_NAMES:
        raise DraftError("logo_type")
    logo_name = LOGO_NAMES[suffix]
    draft = _locked(session, name)
    before = editing.value_at(editing.read(draft.source), "provider.logo")
    source = editing.set_values(draft.source, {"provider.logo": logo_name})
    try:
        catalog = draft_catalog(session, draft, source, logo=(logo_name, content))
    except CatalogError as error:
        session.rollback()
        raise DraftError("invalid", error=error) from None
    assert catalog.provider is not None and catalog.provider.logo is not None
    draft.source, draft.logo_name, draft.logo = source, logo_name, content
    draft.updated_at, draft.updated_by = now, actor.name[:320]
    digest = hashlib.sha256(content).hexdigest()
    record(
        session,
        actor,
        "catalog.draft_edited",
        f"{draft.name} draft",
        before={"provider.logo": before},
        after={"provider.logo": logo_name, "bytes": len(content), "sha256": digest},
        now=now,
    )
    session.commit()
    return draft


LOGO_FILE = "provider.logo (image)"


def changes(session: Session, draft: CatalogDraft) -> list[editing.Change]:
    """Every value of the draft that differs from the newest published version, and its
    logo's image when it is another one."""
    newest = services.newest_version(session, draft.name)
    found = editing.diff(newest.source if newest else "", draft.source)
    named = editing.value_at(editing.read(draft.source), "provider.logo")
    if draft.logo and named == draft.logo_name and (newest is None or newest.logo != draft.logo):
        before = _image(newest.logo) if newest is not None and newest.logo else None
        found.append(editing.Change(LOGO_FILE, before, _image(draft.logo)))
    return found


def _image(content: bytes) -> str:
    return f"{len(content):,} bytes, sha256 {hashlib.sha256(content).hexdigest()[:12]}"


def save_values(
    session: Session,
    name: str,
    values: Mapping[str, tuple[str, Any]],
    actor: Actor,
    now: datetime,
) -> CatalogDraft:
    """Set each dotted path of ``values`` to its value (a number, a text, true, a table of
    texts; None: remove it), if each is still
    what the admin saw (the ``str`` of the pair, as :func:`editing.shown` shows it);
    commits. Raises :class:`DraftError` ``stale`` (nothing saved), ``invalid`` (with the
    catalog file's located message) or ``edit``."""
    draft = _locked(session, name)
    data = editing.read(draft.source)
    stale = [
        Stale(path, was, editing.shown(editing.value_at(data, path)))
        for path, (was, _new) in values.items()
        if editing.shown(editing.value_at(data, path)) != was
    ]
    if stale:
        session.rollback()
        raise DraftError("stale", stale=stale, by=draft.updated_by, at=draft.updated_at)
    try:
        source = editing.set_values(draft.source, {path: new for path, (_, new) in values.items()})
    except editing.EditError as error:
        session.rollback()
        raise DraftError("edit", error=error) from None
    before = {path: editing.value_at(data, path) for path in values}
    after = {path: new for path, (_, new) in values.items()}
    return _save(session, draft, source, actor, now, "catalog.draft_edited", before, after)


def reorder_plans(
    session: Session, name: str, order: list[str], was: list[str], actor: Actor, now: datetime
) -> CatalogDraft:
    """Put the draft's plans in ``order``, if they are still in the order ``was`` the admin
    saw; commits."""
    draft = _locked(session, name)
    current = list(editing.plan_codes(editing.read(draft.source)))
    if current != was:
        session.rollback()
        raise DraftError(
            "stale",
            stale=[Stale("plans", ", ".join(was), ", ".join(current))],
            by=draft.updated_by,
            at=draft.updated_at,
        )
    try:
        source = editing.reorder_plans(draft.source, order)
    except editing.EditError as error:
        session.rollback()
        raise DraftError("edit", error=error) from None
    before, after = {"plans": current}, {"plans": order}
    return _save(session, draft, source, actor, now, "catalog.draft_edited", before, after)


def add_plan(
    session: Session,
    name: str,
    source_plan: str,
    code: str,
    plan_name: Mapping[str, str],
    actor: Actor,
    now: datetime,
) -> CatalogDraft:
    """Add plan ``code`` named ``plan_name`` to the draft, a copy of ``source_plan`` to edit;
    commits. Refused (``edit``) for a code the draft has, (``invalid``) for one that is no
    code."""
    draft = _locked(session, name)
    try:
        source = editing.copy_plan(draft.source, source_plan, code, plan_name)
    except editing.EditError as error:
        session.rollback()
        raise DraftError("edit", error=error) from None
    after = {f"plans.{code}": {"copy_of": source_plan, "name": dict(plan_name)}}
    return _save(session, draft, source, actor, now, "catalog.draft_edited", {}, after)


def replace_section(
    session: Session, name: str, section: str, typed: str, was: str, actor: Actor, now: datetime
) -> CatalogDraft:
    """Replace a top-level ``section`` of the draft with the TOML ``typed``, if the section
    is still the text ``was`` the admin started from; commits."""
    if section not in editing.SECTIONS:
        raise DraftError("edit", error=editing.EditError("unknown_section", section=section))
    draft = _locked(session, name)
    current = editing.section_text(draft.source, section)
    if _normal(current) != _normal(was):
        session.rollback()
        raise DraftError(
            "stale",
            stale=[Stale(section, was, current)],
            by=draft.updated_by,
            at=draft.updated_at,
        )
    try:
        source = editing.replace_section(draft.source, section, typed)
        # tomlkit reads some texts the catalog's TOML reader refuses (a control character):
        # those are refused here, as not TOML.
        before, after = _changed_values(draft.source, source)
    except editing.EditError as error:
        session.rollback()
        raise DraftError("edit", error=error) from None
    return _save(session, draft, source, actor, now, "catalog.draft_edited", before, after)


def import_source(
    session: Session, name: str, text: str, actor: Actor, now: datetime
) -> CatalogDraft:
    """Make the TOML ``text`` (a file in the bundled files' format) the draft of catalog
    ``name``, in place of the draft there was; commits. Validated as a catalog file."""
    code = catalog_code_of(text)
    if code is not None and code != name:
        raise DraftError("other_catalog", found=code, name=name)
    existing = draft_of(session, name)
    try:
        catalog = parse_catalog(
            text,
            source="uploaded file",
            files=_files(session, existing) if existing else _version_files(session, name),
        )
    except CatalogError as error:
        raise DraftError("invalid", error=error) from None
    if catalog.code != name:
        raise DraftError("other_catalog", found=catalog.code, name=name)
    start_draft(session, name, actor, now)
    draft = _locked(session, name)
    before, after = _changed_values(draft.source, text) if _readable(text) else ({}, {})
    return _save(session, draft, text, actor, now, "catalog.draft_imported", before, after)


def discard(session: Session, name: str, actor: Actor, now: datetime) -> None:
    """Drop the draft of catalog ``name`` (nothing published changes); commits."""
    try:
        draft = _locked(session, name)
    except DraftError:
        return  # discarded or published by another admin a moment ago: nothing left to do
    record(
        session,
        actor,
        "catalog.draft_discarded",
        f"{name} draft",
        before={"from_version": draft.base_version, "changes": len(changes(session, draft))},
        after={},
        now=now,
    )
    session.delete(draft)
    session.commit()


def publish_draft(
    session: Session,
    name: str,
    actor: Actor,
    now: datetime,
    effective_at: datetime | None = None,
) -> CatalogVersion:
    """Publish the draft as the next version of catalog ``name``, in effect now or from
    ``effective_at``, and drop the draft; one transaction. Refused (``base_moved``) when a
    version was published after the draft was started, whose changes it would undo."""
    draft = _locked(session, name)
    newest = services.newest_version(session, name)
    if newest is not None and newest.version != draft.base_version:
        session.rollback()
        raise DraftError("base_moved", version=newest.version, base=draft.base_version)
    if not changes(session, draft):
        session.rollback()
        raise DraftError("no_changes")
    source, files = draft.source, _files(session, draft)
    session.delete(draft)
    try:
        return services.publish(
            session,
            source,
            f"admin draft ({actor.name})"[:255],
            now,
            files={**files.maps[1], **files.maps[0]},
            actor=actor,
            effective_at=effective_at,
        )
    except services.TooEarly as early:
        session.rollback()
        raise DraftError("too_early", after=early.after) from None
    except CatalogError as error:
        session.rollback()
        raise DraftError("invalid", error=error) from None


def _locked(session: Session, name: str) -> CatalogDraft:
    """The draft, read afresh and locked; ``no_draft`` if there is none, or another admin
    published or discarded it a moment ago."""
    draft = draft_of(session, name)
    if draft is None:
        raise DraftError("no_draft")
    try:
        return locked_row(session, CatalogDraft, draft.id)
    except NoResultFound:
        session.rollback()
        raise DraftError("no_draft") from None


def _save(
    session: Session,
    draft: CatalogDraft,
    source: str,
    actor: Actor,
    now: datetime,
    action: str,
    before: dict,
    after: dict,
) -> CatalogDraft:
    """Validate ``source`` as the draft's catalog and keep it, audited; a text that changes
    no value saves nothing."""
    unchanged = _readable(source) and not editing.diff(draft.source, source)
    if unchanged and action != "catalog.draft_imported":
        session.rollback()
        return draft
    try:
        catalog = draft_catalog(session, draft, source)
    except CatalogError as error:
        session.rollback()
        raise DraftError("invalid", error=error) from None
    if catalog.code != draft.name:
        session.rollback()
        raise DraftError("other_catalog", found=catalog.code, name=draft.name)
    draft.source = source
    draft.updated_at = now
    draft.updated_by = actor.name[:320]
    record(session, actor, action, f"{draft.name} draft", before=before, after=after, now=now)
    session.commit()
    return draft


def _changed_values(before_text: str, after_text: str) -> tuple[dict, dict]:
    """The values two texts differ in, before and after, by dotted path (for the audit)."""
    found = editing.diff(before_text, after_text)
    return (
        {change.path: change.before for change in found},
        {change.path: change.after for change in found},
    )


def _readable(text: str) -> bool:
    try:
        editing.read(text)
    except editing.EditError:
        return False
    return True


def _normal(text: str) -> str:
    """A section's text as two browsers send it alike (line ends, trailing spaces)."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().splitlines())
