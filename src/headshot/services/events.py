"""Progress events for the caller, read from the records (the database is the source of truth,
so any server process can serve any user's stream)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from headshot.domain.models import Principal
from headshot.storage.db import Database
from headshot.storage.records import Generation, Photo, Training
from headshot.storage.scope import OwnerScope


@dataclass(frozen=True)
class Event:
    kind: str  # validation | training | generation
    id: str
    data: dict[str, Any]


class Events:
    def __init__(self, *, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def changes(
        self, principal: Principal, *, seen: dict[str, tuple[Any, ...]], since: datetime
    ) -> list[Event]:
        """Events for resources whose state differs from `seen` (updated in place)."""
        events: list[Event] = []
        recent = since - timedelta(seconds=5)  # tolerate clock skew between processes
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            for photo in scope.all(Photo, Photo.created_at >= recent):
                events += _emit(seen, Event("validation", photo.id, _photo(photo)))
            for training in scope.all(Training, Training.updated_at >= recent):
                events += _emit(seen, Event("training", training.id, _training(training)))
            for generation in scope.all(Generation, Generation.updated_at >= recent):
                events += _emit(seen, Event("generation", generation.id, _generation(generation)))
        return events

    def now(self) -> datetime:
        return self._clock()


def _emit(seen: dict[str, tuple[Any, ...]], event: Event) -> list[Event]:
    state = tuple(sorted((k, str(v)) for k, v in event.data.items()))
    if seen.get(event.id) == state:
        return []
    seen[event.id] = state
    return [event]


def _photo(row: Photo) -> dict[str, Any]:
    codes = [f["code"] for f in row.report.get("findings", []) if f.get("severity") == "error"]
    return {"session_id": row.session_id, "accepted": row.accepted, "errors": codes}


def _training(row: Training) -> dict[str, Any]:
    return {
        "session_id": row.session_id,
        "version": row.version,
        "status": row.status,
        "stage": row.stage,
        "progress": row.progress,
        "eta_s": row.eta_s,
    }


def _generation(row: Generation) -> dict[str, Any]:
    return {"model_id": row.model_id, "status": row.status, "progress": row.progress}
