"""Gallery thumbnails: a small rendition of each headshot, made on its first request and kept
encrypted like every other blob. Headshots made before thumbnails existed get one the same way."""

from __future__ import annotations

from collections.abc import Callable

from headshot.domain.models import Principal
from headshot.services.audit import AuditLog
from headshot.services.blobs import UserBlobs
from headshot.services.photos import ImageStream
from headshot.storage.db import Database
from headshot.storage.records import Headshot
from headshot.storage.scope import OwnerScope

Render = Callable[[bytes], bytes]


def thumb_key(headshot_id: str) -> str:
    return f"headshots/{headshot_id}.thumb.jpg"


class HeadshotThumbnails:
    def __init__(self, *, db: Database, blobs: UserBlobs, audit: AuditLog, render: Render) -> None:
        self._db = db
        self._blobs = blobs
        self._audit = audit
        self._render = render

    def open(self, principal: Principal, headshot_id: str) -> ImageStream:
        user_id = principal.user_id
        with self._db.transaction() as db:
            row = OwnerScope(db, user_id).get(Headshot, headshot_id)
            image_key, stored = row.image_key, row.thumb_key
            self._audit.record(
                db,
                subject=user_id,
                actor="user",
                action="headshot.read",
                resource=("headshot", headshot_id),
                detail={"size": "thumb"},
            )
        if stored is None:
            # Two first requests at once both render and write the same key: harmless.
            data = self._render(self._blobs.read(user_id, image_key))
            key = thumb_key(headshot_id)
            self._blobs.put(user_id, key, data)
            if not self._remember(user_id, headshot_id, key):
                self._blobs.delete(user_id, key)  # deleted meanwhile: keep nothing
            return ImageStream(iter([data]), "image/jpeg")
        return ImageStream(self._blobs.open(user_id, stored), "image/jpeg")

    def _remember(self, user_id: str, headshot_id: str, key: str) -> bool:
        with self._db.transaction() as db:
            row = db.get(Headshot, headshot_id, with_for_update=True)
            if row is None or row.user_id != user_id:
                return False
            row.thumb_key = key
            return True
