"""Scheduled rotation of the fal API key (R5.3) with the stored ADMIN key, through the same path
as `headshot keys rotate-fal` and `finish-rotation` (`FalKeyRotation`).

Each run (hourly, from the job queue): when the active API key is older than the period, a new
key is made at fal and becomes active; the old one retires, so work in flight finishes on it.
Every API key retired for an hour that no job holds any more is then deleted at fal and revoked
here. A
failed run changes nothing it did not finish and is retried by the next one. Two workers running
at the same moment may each make a key; the older of the two then retires and is deleted like
any other, so the race costs one short-lived key, never a working one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from headshot.domain.errors import ConflictError, HeadshotError
from headshot.engines.protocol import EngineError
from headshot.services.audit import AuditLog
from headshot.services.fal_keys import FalKeyRotation
from headshot.services.provider_keys import ProviderKeys, ProviderKeyView
from headshot.storage.crypto import CryptoError
from headshot.storage.db import Database

log = logging.getLogger(__name__)
# A worker that read the old key just before the rotation may still be submitting with it.
DELETE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class RotationReport:
    rotated_to: str | None = None  # the new key's id
    deleted: list[str] = field(default_factory=list)  # retired keys deleted at fal
    waiting: list[str] = field(default_factory=list)  # retired keys work in flight still holds
    failed: str | None = None


class ScheduledKeyRotation:
    def __init__(
        self,
        *,
        keys: ProviderKeys,
        rotation: Callable[[], AbstractContextManager[FalKeyRotation]],
        every_days: int,
        db: Database,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self._keys = keys
        self._rotation = rotation
        self._every = timedelta(days=every_days)
        self._db = db
        self._audit = audit
        self._clock = clock

    def run(self) -> RotationReport:
        api = [key for key in self._keys.list() if key.scope == "API" and key.provider == "fal"]
        if not self._every or not api or not self._has_admin_key():
            return RotationReport()
        try:
            with self._rotation() as rotation:
                rotated = self._rotate_if_due(rotation, api)
                deleted, waiting = self._finish_retired(rotation)
        except (HeadshotError, EngineError, CryptoError) as exc:
            log.warning("scheduled fal key rotation failed: %s", exc)
            self._record("provider_key.scheduled_rotation_failed", {"error": str(exc)[:200]})
            return RotationReport(failed=str(exc))
        return RotationReport(rotated_to=rotated, deleted=deleted, waiting=waiting)

    def _rotate_if_due(self, rotation: FalKeyRotation, api: list[ProviderKeyView]) -> str | None:
        active = [key for key in api if key.state == "active"]
        usable = active or [key for key in api if key.state == "retiring"]
        if not usable:
            return None  # nothing works now: rotating would not be what the operator needs
        newest = max(usable, key=lambda key: key.created_at)
        if active and self._clock() - newest.created_at < self._every:
            return None
        created = rotation.rotate()
        self._record("provider_key.scheduled_rotation", {"new": created.id, "previous": newest.id})
        return created.id

    def _finish_retired(self, rotation: FalKeyRotation) -> tuple[list[str], list[str]]:
        deleted: list[str] = []
        waiting: list[str] = []
        settled = self._clock() - DELETE_AFTER
        for key in self._keys.list():
            if key.scope != "API" or key.state != "retiring":
                continue
            if key.retired_at is None or key.retired_at > settled:
                waiting.append(key.id)
                continue
            try:
                rotation.finish(key.id)
            except ConflictError as exc:
                if exc.code != "key_in_use":
                    raise
                waiting.append(key.id)  # work in flight finishes on it; the next run retries
                continue
            self._record("provider_key.scheduled_delete", {"key": key.id, "hint": key.hint})
            deleted.append(key.id)
        return deleted, waiting

    def _has_admin_key(self) -> bool:
        return any(
            key.scope == "ADMIN" and key.state in ("active", "retiring")
            for key in self._keys.list()
        )

    def _record(self, action: str, detail: dict[str, object]) -> None:
        with self._db.transaction() as db:
            self._audit.record(db, subject=None, actor="system", action=action, detail=detail)
