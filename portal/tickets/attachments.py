"""Files sent with tickets: checked by their content, named safely, kept outside ``static/``.

A file is taken when its content is one of the configured types (its magic
numbers, read by ``filetype``; text when it decodes as UTF-8 without control
bytes), whatever its name says; the sender's name is kept for display only,
with any path and control characters removed. The content is written under a
random name in the files folder, and served only to the ticket's organization
and to staff, always as a download with its own type and ``nosniff``.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import filetype

from portal.models import TicketAttachment

# Enough of a file to tell its type by.
SNIFF_BYTES = 8192
NAME_LENGTH = 120
TEXT = "text/plain"


class AttachmentRefused(ValueError):
    """A file the portal does not take: ``reason`` is ``too_large``, ``wrong_type``,
    ``empty`` or ``too_many``; ``filename`` the name it was sent with (made safe)."""

    def __init__(self, reason: str, filename: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.reason = reason
        self.filename = filename


@dataclass(frozen=True)
class Upload:
    """A file as the request brought it: its name and a stream of its content."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class FilePolicy:
    """Where files go and what is taken, from the ``TICKET_FILE*`` settings."""

    folder: Path
    max_bytes: int
    per_message: int
    types: tuple[str, ...]


def safe_name(name: str) -> str:
    """The sender's file name without a path, control characters or leading dots, at
    most 120 characters with its extension kept; ``file`` if nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = unicodedata.normalize("NFC", " ".join(base.split())).lstrip(". ")
    if len(base) > NAME_LENGTH:
        _stem, dot, extension = base.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        base = base[: NAME_LENGTH - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return base or "file"


def content_type(head: bytes) -> str | None:
    """The MIME type ``head`` (a file's first bytes) shows, or None if none is known."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return None
        decoded = head[: error.start].decode("utf-8")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in decoded):
        return None
    return TEXT


def check_count(uploads: list[Upload], policy: FilePolicy) -> None:
    if len(uploads) > policy.per_message:
        raise AttachmentRefused("too_many", safe_name(uploads[policy.per_message].filename))


def store(
    upload: Upload, policy: FilePolicy, ticket_id: int, user_id: int | None, now: datetime
) -> TicketAttachment:
    """Write ``upload`` into the files folder and return its row (not yet added); an
    AttachmentRefused if it is empty, too large or of a type not taken. A refused file
    leaves nothing on disk."""
    name = safe_name(upload.filename)
    head = upload.stream.read(SNIFF_BYTES)
    if not head:
        raise AttachmentRefused("empty", name)
    mime = content_type(head)
    if mime not in policy.types:
        raise AttachmentRefused("wrong_type", name)
    policy.folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    path = policy.folder / stored
    size = 0
    try:
        with open(path, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > policy.max_bytes:
                    raise AttachmentRefused("too_large", name)
                out.write(chunk)
                chunk = upload.stream.read(1024 * 1024)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return TicketAttachment(
        ticket_id=ticket_id,
        uploaded_by_id=user_id,
        filename=name,
        stored_name=stored,
        mime_type=mime,
        size=size,
        created_at=now,
    )


def discard(rows: list[TicketAttachment], policy: FilePolicy) -> None:
    """Remove the files of rows whose transaction did not commit."""
    for row in rows:
        (policy.folder / row.stored_name).unlink(missing_ok=True)


def path_of(row: TicketAttachment, policy: FilePolicy) -> Path | None:
    """The file of ``row`` on disk, or None if it is gone."""
    path = policy.folder / row.stored_name
    return path if os.path.isfile(path) else None
