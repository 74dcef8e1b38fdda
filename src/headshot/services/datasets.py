"""Selfie zips served to fal from a short-lived signed URL of ours (with `HEADSHOT_PUBLIC_URL`),
so no copy of the photos lands in fal's storage, where no API can delete an uploaded input.

The zip is kept encrypted only while its training runs: the training job discards it the moment
the training ends, and the retention task sweeps any a crash left behind.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import select

from headshot.domain.errors import NotFoundError
from headshot.domain.jobs import ACTIVE
from headshot.services.blobs import BlobJanitor, UserBlobs
from headshot.storage.db import Database
from headshot.storage.records import Training

GONE = "This link has expired."


class DatasetLinks:
    def __init__(
        self,
        *,
        db: Database,
        blobs: UserBlobs,
        secret: bytes,
        public_url: str,
        ttl_s: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._janitor = BlobJanitor(blobs)
        self._secret = secret
        self._public_url = public_url.rstrip("/")
        self._ttl_s = ttl_s
        self._clock = clock

    def publish(self, archive: bytes, name: str) -> str:
        """The fal engine's hook: store the zip of training `<id>.zip`, return its signed URL."""
        training_id = name.removesuffix(".zip")
        key = f"datasets/{training_id}.zip"
        with self._db.transaction() as db:
            owner = db.scalar(select(Training.user_id).where(Training.id == training_id))
        if owner is None:
            raise NotFoundError("No such training.")
        self._blobs.put(owner, key, archive)
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is not None:
                row.dataset_key = key
        expires = int(self._clock().timestamp()) + self._ttl_s
        signature = self._sign(training_id, expires)
        return f"{self._public_url}/api/v1/datasets/{training_id}.zip?exp={expires}&sig={signature}"

    def open(self, training_id: str, *, expires: int, signature: str) -> Iterator[bytes]:
        """The zip, while the link is genuine and fresh and its training still runs."""
        genuine = hmac.compare_digest(self._sign(training_id, expires), signature)
        if not genuine or expires < self._clock().timestamp():
            raise NotFoundError(GONE)
        with self._db.transaction() as db:
            row = db.get(Training, training_id)
            if row is None or row.status not in ACTIVE or row.dataset_key is None:
                raise NotFoundError(GONE)
            owner, key = row.user_id, row.dataset_key
        return self._blobs.open(owner, key)

    def discard(self, training_id: str) -> bool:
        """Delete the zip of a training that has ended; True when there was one."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None or row.dataset_key is None or row.status in ACTIVE:
                return False
            owner, key = row.user_id, row.dataset_key
            row.dataset_key = None
        self._janitor.delete(owner, [key])
        return True

    def _sign(self, training_id: str, expires: int) -> str:
        message = f"{training_id}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
