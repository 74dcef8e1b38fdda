"""Export (GDPR Art. 20): one zip of everything held about a person, streamed as it is written.

Memory stays flat whatever the account's size: rows are read in batches and written out as JSON
one by one, and each file is decrypted segment by segment straight into the archive. Only the
list of files (names and keys) is held, as the zip format's central directory needs it anyway.

A failure while streaming (storage down, a blob that fails authentication) aborts the stream, so
the download ends truncated and the client reports it as broken: never a "complete" archive that
silently lacks a file. The failure is logged without any of the person's data.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zipfile import ZIP_DEFLATED, ZIP_STORED

from sqlalchemy import Table, select
from zipstream import ZipStream

from headshot.domain.errors import NotFoundError
from headshot.services.audit import AuditLog
from headshot.services.blobs import UserBlobs
from headshot.storage.blobs import BlobNotFoundError
from headshot.storage.db import Database
from headshot.storage.records import (
    AuditEntry,
    Base,
    Headshot,
    Photo,
    PhotoSession,
    Training,
    User,
)

log = logging.getLogger(__name__)

FORMAT = "headshot-export/1"
BATCH = 200
# Columns that are credentials or keys, not data about the person: named, never exported.
WITHHELD = {
    ("users", "password_hash"): "stored as an argon2id hash; the hash is not exported",
    ("auth_sessions", "token_hash"): "a hash of the login token",
    ("api_tokens", "token_hash"): "a hash of the token",
    ("shares", "token_hash"): "a hash of the link's token",
    ("account_tokens", "token_hash"): "a hash of a mailed link's token",
}
# Tables of the person that hold no data about them: their wrapped encryption key.
SKIPPED_TABLES = frozenset({"data_keys"})
# Friendlier section names for the tables whose names are technical.
SECTION_NAMES = {
    "photo_sessions": "sessions",
    "trainings": "model_versions",
    "auth_sessions": "logins",
    "account_tokens": "mailed_links",
}

README = """\
Your Headshot data
==================

This archive holds everything Headshot stores about you, exported on {date}.

data.json
    Every record about you, one section per kind:
    account, consents (the text version you agreed to and when), sessions (your photo
    batches), photos (with the full validation report of each), model_versions (training
    parameters, dataset fingerprint, lineage, status, the provider's request id),
    generations, headshots (look, seed, likeness score, favourite), shares (links you
    made; the link itself is not stored, only a hash), api_tokens and logins (dates and
    names, never the secrets), mailed_links (password-reset and email-confirmation links
    we mailed you: dates only), audit_log (every recorded access to your data).
    Password and token hashes are left out and named under "withheld".

sessions/<batch>/photos/
    Your photos as stored: the original (with camera metadata removed) and the image
    prepared for training.
sessions/<batch>/models/v<N>/lora.safetensors
    The weights of each personal model version (a FLUX LoRA).
sessions/<batch>/headshots/
    Every headshot made for you.

Everything here was decrypted for this export; on the server it stays encrypted with a key
of your own. To take it all out of Headshot for good, erase your account from the account page.
"""


@dataclass(frozen=True)
class ExportFile:
    arcname: str
    key: str


class Exporter:
    def __init__(
        self,
        *,
        db: Database,
        blobs: UserBlobs,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._audit = audit
        self._clock = clock

    def export(self, user_id: str, *, actor: str) -> Iterator[bytes]:
        """The archive's bytes, produced as they are consumed. Raises `NotFoundError` at once for
        an unknown user; everything else happens while streaming."""
        now = self._clock()
        with self._db.transaction() as db:
            if db.get(User, user_id) is None:
                raise NotFoundError("No such account.")
            self._audit.record(db, subject=user_id, actor=actor, action="data.export")
            files = list(_files(db, user_id))
        archive = ZipStream(sized=False)
        archive.add(
            README.format(date=now.date().isoformat()).encode(),
            "README.txt",
            compress_type=ZIP_DEFLATED,
        )
        archive.add(self._document(user_id, now), "data.json", compress_type=ZIP_DEFLATED)
        for item in files:
            # Images and weights are compressed already; storing them keeps the CPU idle.
            archive.add(self._blob(user_id, item.key), item.arcname, compress_type=ZIP_STORED)
        return _logged(iter(archive))

    def _blob(self, user_id: str, key: str) -> Iterator[bytes]:
        try:
            chunks = self._blobs.open(user_id, key)
        except BlobNotFoundError:
            # The row outlived its file (a crash between the two deletions): nothing to give.
            log.warning("export: a listed file is missing from storage")
            return
        yield from chunks

    def _document(self, user_id: str, now: datetime) -> Iterator[bytes]:
        """data.json, section by section and row by row, inside one read transaction."""
        yield _dump({"format": FORMAT, "exported_at": now.isoformat()})[:-1]
        yield b', "withheld": ' + _dump({f"{t}.{c}": why for (t, c), why in WITHHELD.items()})
        with self._db.transaction() as db:
            user = db.get(User, user_id)
            if user is not None:
                yield b', "account": ' + _dump(_row("users", _columns(user)))
            for table in _personal_tables():
                yield f', "{SECTION_NAMES.get(table.name, table.name)}": ['.encode()
                owner = table.c.subject_user_id if table.name == "audit_log" else table.c.user_id
                query = select(table).where(owner == user_id).order_by(*table.primary_key)
                rows = db.execute(query, execution_options={"yield_per": BATCH}).mappings()
                for index, row in enumerate(rows):
                    yield (b", " if index else b"") + _dump(_row(table.name, dict(row)))
                yield b"]"
        yield b"}\n"


def _personal_tables() -> list[Table]:
    """Every table holding rows about one person (new tables are exported automatically)."""
    tables = []
    for table in Base.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES or table.name == "users":
            continue
        if "user_id" in table.c or table.name == AuditEntry.__tablename__:
            tables.append(table)
    return tables


def _files(db: Any, user_id: str) -> Iterator[ExportFile]:
    folders: dict[str, str] = {}
    sessions = select(PhotoSession).where(PhotoSession.user_id == user_id)
    for session in db.scalars(sessions):
        folders[session.id] = f"sessions/{_slug(session.name)}-{session.id[:8]}"
    photos = select(Photo).where(Photo.user_id == user_id).order_by(Photo.created_at)
    for photo in db.scalars(photos):
        base = f"{folders[photo.session_id]}/photos/{photo.id[:8]}-{_slug(photo.filename)}"
        if photo.original_key:
            yield ExportFile(f"{base}{_extension(photo.mime)}", photo.original_key)
        if photo.training_key:
            yield ExportFile(f"{base}.training.jpg", photo.training_key)
    trainings = select(Training).where(Training.user_id == user_id)
    for training in db.scalars(trainings):
        if training.weights_key:
            folder = folders[training.session_id]
            yield ExportFile(
                f"{folder}/models/v{training.version}/lora.safetensors", training.weights_key
            )
    headshots = select(Headshot).where(Headshot.user_id == user_id).order_by(Headshot.created_at)
    for headshot in db.scalars(headshots):
        folder = folders.get(headshot.session_id, "sessions/unknown")
        yield ExportFile(f"{folder}/headshots/{headshot.id}.jpg", headshot.image_key)


def _columns(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.key) for column in row.__table__.columns}


def _row(table: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _plain(value)
        for name, value in values.items()
        if (table, name) not in WITHHELD and not isinstance(value, bytes)
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()


def _slug(text: str) -> str:
    """A file-name-safe rendering of a name the person chose (no folders, no dots at the start)."""
    stem = text.rsplit(".", 1)[0] if "." in text else text
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return cleaned[:60] or "untitled"


def _extension(mime: str) -> str:
    return {"image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}.get(mime, ".jpg")


def _logged(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except Exception:
        log.exception("export aborted while streaming; the download ends truncated")
        raise
