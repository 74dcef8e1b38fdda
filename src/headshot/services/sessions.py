"""Photo sessions ("batches"): each holds one person's photos, model versions and generations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from headshot.domain.errors import InvalidInputError
from headshot.domain.models import Principal, SessionView
from headshot.storage.db import Database
from headshot.storage.records import Photo, PhotoSession
from headshot.storage.scope import OwnerScope


class Sessions:
    def __init__(self, *, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
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
            return _view(row, 0, 0)

    def list(self, principal: Principal) -> list[SessionView]:
        with self._db.transaction() as db:
            counts = _photo_counts(db, principal.user_id)
            rows = OwnerScope(db, principal.user_id).all(PhotoSession)
            rows.sort(key=lambda r: r.created_at, reverse=True)
            return [_view(r, *counts.get(r.id, (0, 0))) for r in rows]

    def get(self, principal: Principal, session_id: str) -> SessionView:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(PhotoSession, session_id)
            return _view(row, *_photo_counts(db, principal.user_id, row.id).get(row.id, (0, 0)))

    def rename(self, principal: Principal, session_id: str, *, name: str) -> SessionView:
        cleaned = _clean_name(name)
        if not cleaned:
            raise InvalidInputError("Give the session a name.", code="invalid_name")
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(PhotoSession, session_id)
            row.name = cleaned
            row.updated_at = self._clock()
        return self.get(principal, session_id)


def _clean_name(name: str | None) -> str:
    return " ".join((name or "").split())[:120]


def _photo_counts(
    db: Session, user_id: str, session_id: str | None = None
) -> dict[str, tuple[int, int]]:
    query = (
        select(
            Photo.session_id,
            func.count(Photo.id),
            func.sum(case((Photo.accepted.is_(True), 1), else_=0)),
        )
        .where(Photo.user_id == user_id)
        .group_by(Photo.session_id)
    )
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    return {sid: (int(total), int(accepted or 0)) for sid, total, accepted in db.execute(query)}


def _view(row: PhotoSession, photo_count: int, accepted_count: int) -> SessionView:
    return SessionView(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        photo_count=photo_count,
        accepted_count=accepted_count,
    )
