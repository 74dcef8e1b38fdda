"""Photo sessions ("batches"): each holds one person's photos, model versions and generations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from headshot.domain.errors import InvalidInputError
from headshot.domain.models import Principal, SessionView
from headshot.services.photos import PhotoAnalyzer, counted_members
from headshot.storage.db import Database
from headshot.storage.records import Photo, PhotoSession
from headshot.storage.scope import OwnerScope


class Sessions:
    def __init__(
        self, *, db: Database, analyzer: PhotoAnalyzer, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._analyzer = analyzer
        self._clock = clock

    def create(self, principal: Principal, *, name: str | None) -> SessionView:
        with self._db.transaction() as db:
            now = self._clock()
            row = PhotoSession(
                user_id=principal.user_id,
                name=_clean_name(name) or f"Session of {now:%d %b %Y}",
                created_at=now,
                updated_at=now,
            )
            db.add(row)
            db.flush()
            return self._view(row, [])

    def list(self, principal: Principal) -> list[SessionView]:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            photos: dict[str, list[Photo]] = {}
            for photo in scope.all(Photo):
                photos.setdefault(photo.session_id, []).append(photo)
            rows = scope.all(PhotoSession)
            rows.sort(key=lambda r: r.created_at, reverse=True)
            return [self._view(r, photos.get(r.id, [])) for r in rows]

    def get(self, principal: Principal, session_id: str) -> SessionView:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            row = scope.get(PhotoSession, session_id)
            return self._view(row, scope.all(Photo, Photo.session_id == row.id))

    def rename(self, principal: Principal, session_id: str, *, name: str) -> SessionView:
        cleaned = _clean_name(name)
        if not cleaned:
            raise InvalidInputError("Give the session a name.", code="invalid_name")
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(PhotoSession, session_id)
            row.name = cleaned
            row.updated_at = self._clock()
        return self.get(principal, session_id)

    def _view(self, row: PhotoSession, photos: Sequence[Photo]) -> SessionView:
        """Counts computed the way readiness computes them, so the two always agree."""
        report: dict[str, Any] = self._analyzer.assess(counted_members(photos))
        return SessionView(
            id=row.id,
            name=row.name,
            created_at=row.created_at,
            updated_at=row.updated_at,
            photo_count=len(photos),
            accepted_count=sum(1 for p in photos if p.accepted),
            usable_count=int(report["accepted_count"]),
            required_count=int(report["required_count"]),
        )


def _clean_name(name: str | None) -> str:
    return " ".join((name or "").split())[:120]
