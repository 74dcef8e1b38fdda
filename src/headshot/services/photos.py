"""Photo intake: consent and ownership checks, analysis, encrypted storage, the set report."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import func, select

from headshot.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from headshot.domain.filenames import display_filename
from headshot.domain.models import PhotoView, Principal, UploadRejection, UploadResult
from headshot.domain.readiness import photo_status, photos_named_by_set
from headshot.services.accounts import Accounts
from headshot.services.audit import AuditLog
from headshot.services.blobs import BlobJanitor, UserBlobs
from headshot.storage.db import Database
from headshot.storage.records import Photo, PhotoSession, new_id
from headshot.storage.scope import OwnerScope

log = logging.getLogger(__name__)


class UploadBody(Protocol):
    """Where an uploaded file's bytes wait for their check: memory, or an encrypted spool file."""

    def read(self) -> bytes: ...

    def discard(self) -> None:
        """Forget the bytes (and delete what held them); safe to call more than once."""
        ...


class SpoolFile(UploadBody, Protocol):
    """An upload body being received: written as it arrives, then finished."""

    @property
    def size(self) -> int:
        """Bytes received so far."""
        ...

    @property
    def memory_bytes(self) -> int:
        """Bytes held in memory now."""
        ...

    @property
    def disk_bytes(self) -> int:
        """Bytes written to the spool file (ciphertext)."""
        ...

    def write(self, data: bytes) -> None: ...

    def finish(self) -> None: ...


class UploadSpool(Protocol):
    """Makes the bodies uploads are received into (`storage/spool.py`)."""

    def open(self) -> SpoolFile: ...


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    body: UploadBody

    def take(self) -> bytes:
        """The file's bytes, once: where they waited is emptied at once, so a spool file lives
        no longer than until its check begins."""
        try:
            return self.body.read()
        finally:
            self.body.discard()


@dataclass(frozen=True)
class _Received:
    """What is recorded of the file as sent: its display name and digest (duplicate checks)."""

    filename: str
    sha256: str


@dataclass(frozen=True)
class Analysis:
    """What the imaging pipeline tells the service about one decodable photo."""

    accepted: bool
    width: int
    height: int
    report: dict[str, Any]
    member: dict[str, Any] | None
    original: bytes
    original_mime: str
    training_jpeg: bytes | None
    thumbnail_jpeg: bytes


class PhotoAnalyzer(Protocol):
    def analyze(self, data: bytes, *, filename: str, photo_id: str) -> Analysis:
        """Raise `InvalidInputError` / `PayloadTooLargeError` for files that are not images."""
        ...

    def assess(self, members: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The set report (`SetReport` of the API) over the accepted photos' members."""
        ...


@dataclass(frozen=True)
class ImageStream:
    chunks: Iterator[bytes]
    media_type: str


class Photos:
    def __init__(
        self,
        *,
        db: Database,
        blobs: UserBlobs,
        analyzer: PhotoAnalyzer,
        accounts: Accounts,
        audit: AuditLog,
        clock: Callable[[], datetime],
        max_photos: int = 60,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._db = db
        self._max_photos = max_photos
        self._timer = timer
        self._blobs = blobs
        self._janitor = BlobJanitor(blobs)
        self._analyzer = analyzer
        self._accounts = accounts
        self._audit = audit
        self._clock = clock

    def ensure_can_upload(self, principal: Principal, session_id: str) -> None:
        """Checked before the request body is read, so refused uploads cost nothing."""
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            session = scope.get(PhotoSession, session_id)
            if not self._accounts.has_consent(db, principal.user_id):
                raise PermissionDeniedError(
                    "Please agree to the processing of your face photos before uploading.",
                    code="consent_required",
                )
            kept = db.scalar(
                select(func.count())
                .select_from(Photo)
                .where(Photo.session_id == session.id, Photo.accepted.is_(True))
            )
            if (kept or 0) >= self._max_photos:
                raise ConflictError(
                    f"This batch holds {self._max_photos} photos already, the most it can hold. "
                    "Remove some or start a new batch.",
                    code="batch_full",
                )

    def add(self, principal: Principal, session_id: str, file: IncomingFile) -> PhotoView:
        """Analyse and store one file; nothing is stored when it is refused."""
        started = self._timer()
        self.ensure_can_upload(principal, session_id)
        photo_id = new_id()
        filename = display_filename(file.filename)
        data = file.take()  # read here, in the check thread: one whole file at a time
        analysis = self._analyzer.analyze(data, filename=filename, photo_id=photo_id)
        keys = self._store_blobs(principal.user_id, photo_id, analysis)
        try:
            return self._record(
                principal,
                session_id,
                photo_id,
                _Received(filename, hashlib.sha256(data).hexdigest()),
                analysis,
                keys,
                started=started,
            )
        except Exception:
            self._janitor.delete(principal.user_id, [k for k in keys.values() if k])
            raise

    def add_many(
        self, principal: Principal, session_id: str, files: Sequence[IncomingFile]
    ) -> UploadResult:
        """Each file analysed and stored; the answer tells each photo's place in the set as it
        stands after the whole upload."""
        added: list[str] = []
        rejections: list[UploadRejection] = []
        for file in files:
            try:
                added.append(self.add(principal, session_id, file).id)
            except (InvalidInputError, PayloadTooLargeError, ConflictError) as exc:
                status = {PayloadTooLargeError: 413, ConflictError: 409}.get(type(exc), 422)
                name = display_filename(file.filename)
                rejections.append(UploadRejection(name, exc.code, exc.message, status))
        current = {view.id: view for view in self.list(principal, session_id)}
        photos = tuple(current[i] for i in added if i in current)
        return UploadResult(photos=photos, rejections=tuple(rejections))

    def _store_blobs(
        self, user_id: str, photo_id: str, analysis: Analysis
    ) -> dict[str, str | None]:
        keys: dict[str, str | None] = {"original": None, "training": None, "thumb": None}
        if not analysis.accepted:
            return keys  # rejected photos keep only their report: nothing to train on, nothing kept
        parts = {
            "original": analysis.original,
            "training": analysis.training_jpeg,
            "thumb": analysis.thumbnail_jpeg,
        }
        try:
            for name, data in parts.items():
                if data is not None:
                    key = f"photos/{photo_id}/{name}"
                    self._blobs.put(user_id, key, data)
                    keys[name] = key
        except Exception:
            self._janitor.delete(user_id, [k for k in keys.values() if k])
            raise
        return keys

    def _record(
        self,
        principal: Principal,
        session_id: str,
        photo_id: str,
        file: _Received,
        analysis: Analysis,
        keys: dict[str, str | None],
        *,
        started: float,
    ) -> PhotoView:
        with self._db.transaction() as db:
            session = OwnerScope(db, principal.user_id).get(PhotoSession, session_id)
            row = Photo(
                id=photo_id,
                user_id=principal.user_id,
                session_id=session.id,
                filename=file.filename,
                accepted=analysis.accepted,
                width=analysis.width,
                height=analysis.height,
                mime=analysis.original_mime,
                stored_bytes=len(analysis.original) if keys["original"] else 0,
                sha256=file.sha256,
                report=analysis.report,
                member=analysis.member,
                original_key=keys["original"],
                training_key=keys["training"],
                thumb_key=keys["thumb"],
                processing_s=self._timer() - started,
                created_at=self._clock(),
            )
            db.add(row)
            session.updated_at = self._clock()
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="photo.upload",
                resource=("photo", photo_id),
            )
            db.flush()
            return _view(row)

    def list(self, principal: Principal, session_id: str) -> list[PhotoView]:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            session = scope.get(PhotoSession, session_id)
            rows = sorted(scope.all(Photo, Photo.session_id == session.id), key=_age)
            named = photos_named_by_set(self._assess(rows))
            return [_view(r, named) for r in rows]

    def get(self, principal: Principal, photo_id: str) -> PhotoView:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            row = scope.get(Photo, photo_id)
            named = photos_named_by_set(self._assess(scope.all(Photo, _same_session(row))))
            return _view(row, named)

    def set_excluded(self, principal: Principal, photo_id: str, *, excluded: bool) -> PhotoView:
        """Leave a photo out of readiness and training, or take it back in."""
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Photo, photo_id, for_update=True)
            if row.excluded != excluded:
                row.excluded = excluded
                self._audit.record(
                    db,
                    subject=principal.user_id,
                    actor="user",
                    action="photo.exclude" if excluded else "photo.include",
                    resource=("photo", photo_id),
                )
        return self.get(principal, photo_id)

    def image(
        self, principal: Principal, photo_id: str, *, size: Literal["thumb", "full"]
    ) -> ImageStream:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Photo, photo_id)
            key = row.thumb_key if size == "thumb" else row.original_key
            media_type = "image/jpeg" if size == "thumb" else row.mime
            if key is None:
                raise NotFoundError("This photo was not kept because it was not accepted.")
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="photo.read",
                resource=("photo", photo_id),
                detail={"size": size},
            )
        return ImageStream(chunks=self._blobs.open(principal.user_id, key), media_type=media_type)

    def readiness(self, principal: Principal, session_id: str) -> dict[str, Any]:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            session = scope.get(PhotoSession, session_id)
            return self._assess(scope.all(Photo, Photo.session_id == session.id))

    def _assess(self, rows: Sequence[Photo]) -> dict[str, Any]:
        """The set report over the photos that count: accepted and not left out."""
        return self._analyzer.assess(counted_members(rows))


def counted_members(rows: Sequence[Photo]) -> list[dict[str, Any]]:
    """The set-check facts of the photos readiness counts, oldest first."""
    return [r.member for r in sorted(rows, key=_age) if r.accepted and not r.excluded and r.member]


def _age(row: Photo) -> datetime:
    return row.created_at


def _same_session(row: Photo) -> Any:
    return Photo.session_id == row.session_id


def _view(row: Photo, named_by_set: frozenset[str] = frozenset()) -> PhotoView:
    return PhotoView(
        id=row.id,
        session_id=row.session_id,
        filename=row.filename,
        accepted=row.accepted,
        width=row.width,
        height=row.height,
        stored_bytes=row.stored_bytes,
        report=row.report,
        created_at=row.created_at,
        excluded=row.excluded,
        status=photo_status(
            accepted=row.accepted, excluded=row.excluded, named_by_set=row.id in named_by_set
        ),
    )
