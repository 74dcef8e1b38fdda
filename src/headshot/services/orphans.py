"""The orphan sweep: stored files that no record names any more are deleted.

Every writer stores a file first and records it after (a photo, a headshot and its thumbnail, a
model's weights, a training's selfie zip), and every deletion removes the records first and the
files after. A crash between the two steps, or a failed delete (`BlobJanitor`), leaves an
encrypted file that nothing points at; so does an account whose erasure could not remove every
file (its data key is gone, so they are unreadable, but they still take space and should go).

The sweep walks the users' part of the blob store (`u/<user_id>/<key>`, see `storage.vault`)
one user folder at a time, reads the keys that user's records name (one query per table), and
deletes each file that is older than the grace period and either unnamed or owned by a user
who no longer exists. It also removes what a put killed mid-write left (a half-written file, an
open multipart upload) once as old. Nothing outside `u/` is ever touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from headshot.domain.retention import orphan_due
from headshot.storage.blobs import BlobError, BlobInfo, BlobStore
from headshot.storage.db import Database
from headshot.storage.records import DataKey, Headshot, Photo, Training

log = logging.getLogger(__name__)

USERS = "u/"
# Listed files held at once: a user with more is handled in several rounds.
BATCH = 1000


@dataclass(frozen=True)
class _Stored:
    owner: str | None  # None: a file directly under u/, which no writer makes
    key: str  # the key inside the owner's folder, as the records name it
    info: BlobInfo


class OrphanSweep:
    def __init__(
        self,
        *,
        db: Database,
        blobs: BlobStore,
        clock: Callable[[], datetime],
        grace: timedelta,
    ) -> None:
        """`blobs` is the raw store under the vault: the sweep reads names and dates only, never
        contents, so it needs no key."""
        self._db = db
        self._blobs = blobs
        self._clock = clock
        self._grace = grace

    def sweep(self) -> int:
        """Delete every orphaned file past the grace period; returns how many went."""
        # Why a file named by a record committed while the sweep runs is never deleted: every
        # writer stores the file, then commits its record at once, so the record follows the
        # file's last-modified time by at most one upload (S3 may date a multipart upload from
        # its start). The sweep takes `now` before listing and reads a user's records after
        # listing their files, so a record it misses was committed after `now`; its file was
        # then written less than one upload before `now`, which the grace period exceeds: too
        # young to go. The grace period must therefore outlast the slowest upload.
        now = self._clock()
        deleted = 0
        try:
            for batch in _batches(self._blobs.list_modified(USERS)):
                deleted += self._sweep_batch(batch, now)
            # Puts killed mid-write leave pieces without a key; the same grace spares live ones.
            deleted += self._blobs.discard_unfinished(USERS, started_before=now - self._grace)
        except BlobError as exc:  # the store is unreachable: the next run tries again
            log.warning("orphan sweep stopped: %s", exc)
        if deleted:
            log.info("orphan sweep deleted %d files", deleted)
        return deleted

    def _sweep_batch(self, batch: Sequence[_Stored], now: datetime) -> int:
        old = [s for s in batch if now - s.info.modified >= self._grace]
        if not old:
            return 0  # everything is within grace: no need to ask the database
        owner = old[0].owner
        owner_known, referenced = self._records(owner) if owner else (False, frozenset[str]())
        doomed = [
            s.info.key
            for s in old
            if orphan_due(
                modified=s.info.modified,
                referenced=s.key in referenced,
                owner_known=owner_known,
                now=now,
                grace=self._grace,
            )
        ]
        return sum(1 for key in doomed if self._delete(key))

    def _records(self, owner: str) -> tuple[bool, frozenset[str]]:
        """Whether the owner still exists, and every key their records name."""
        with self._db.transaction() as db:
            # A data key row implies its user (a foreign key with cascade): an erased account
            # has neither, and blobs without a data key are unreadable anyway.
            if db.scalar(select(DataKey.user_id).where(DataKey.user_id == owner)) is None:
                return False, frozenset()
            photos = db.execute(
                select(Photo.original_key, Photo.training_key, Photo.thumb_key).where(
                    Photo.user_id == owner
                )
            )
            headshots = db.execute(
                select(Headshot.image_key, Headshot.thumb_key).where(Headshot.user_id == owner)
            )
            trainings = db.execute(
                select(Training.weights_key, Training.dataset_key).where(Training.user_id == owner)
            )
            keys = {k for rows in (photos, headshots, trainings) for row in rows for k in row}
        return True, frozenset(k for k in keys if k)

    def _delete(self, key: str) -> bool:
        try:
            self._blobs.delete(key)
        except BlobError as exc:  # left for the next run; the message names no path
            log.warning("orphan sweep could not delete a file: %s", exc)
            return False
        return True


def _split(info: BlobInfo) -> _Stored:
    owner, _, key = info.key.removeprefix(USERS).partition("/")
    return _Stored(owner if key else None, key, info)


def _batches(listing: Iterable[BlobInfo]) -> Iterator[list[_Stored]]:
    """Runs of files of one owner, at most `BATCH` long. Stores list a folder's keys together,
    so each user comes in one run (or a few when they have many files); an interleaved listing
    would only cost more queries, never a wrong answer."""
    batch: list[_Stored] = []
    for info in listing:
        stored = _split(info)
        if batch and (stored.owner != batch[0].owner or len(batch) >= BATCH):
            yield batch
            batch = []
        batch.append(stored)
    if batch:
        yield batch
