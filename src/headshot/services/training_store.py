"""What a training run reads and writes: its inputs, its provider state, its stages, its model.

Every status change of a training made by job code goes through here (and through
`domain.jobs.move`); a finished or cancelled training is never written again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from headshot.domain.jobs import ACTIVE, TERMINAL, Status, move
from headshot.domain.provider_state import TrainingProviderState
from headshot.engines.protocol import Handle, TrainedModel, TrainingImage, TrainingRequest
from headshot.services.audit import AuditLog
from headshot.services.blobs import UserBlobs
from headshot.services.consent_gate import halt_without_consent
from headshot.storage.db import Database
from headshot.storage.records import Photo, Training

log = logging.getLogger(__name__)
STAGE_MAX = 80  # the width of `trainings.stage`
LOGS_KEPT = 20


@dataclass(frozen=True)
class TrainingSnapshot:
    """A training as a step sees it when it starts."""

    engine: str
    status: Status
    provider: TrainingProviderState


class TrainingStore:
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

    def begin_step(self, training_id: str) -> TrainingSnapshot | None:
        """The training's state, after cancelling it if its owner withdrew consent."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None:
                return None
            halt_without_consent(db, row, clock=self._clock, audit=self._audit)
            return TrainingSnapshot(
                engine=row.engine,
                status=Status(row.status),
                provider=TrainingProviderState.from_json(row.provider_handle),
            )

    def request(self, training_id: str) -> TrainingRequest:
        """The photos and parameters the engine trains on, read from storage."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id)
            assert row is not None
            photo_ids = list(row.params.get("photo_ids", []))
            photos = db.scalars(select(Photo).where(Photo.id.in_(photo_ids))).all()
            keys = sorted((p.id, p.training_key) for p in photos if p.training_key)
            user_id, trigger = row.user_id, row.trigger_phrase
            steps, options = int(row.params.get("steps", 0)), dict(row.params.get("options", {}))
        images = tuple(
            TrainingImage(name=f"img{i:02d}.jpg", jpeg=self._blobs.read(user_id, key))
            for i, (_, key) in enumerate(keys, start=1)
            if key is not None
        )
        return TrainingRequest(
            job_id=training_id, images=images, trigger_phrase=trigger, steps=steps, options=options
        )

    def set_stage(
        self,
        training_id: str,
        status: Status,
        stage: str,
        *,
        progress: float | None = None,
        provider: TrainingProviderState | None = None,
        only_from: Status | None = None,
    ) -> bool:
        """Move an unfinished training; False when it had ended (or was not in `only_from`)."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return False
            if only_from is not None and row.status != only_from:
                return False  # another worker got here first
            move(row, status)
            row.stage = stage[:STAGE_MAX]
            if progress is not None:
                row.progress = progress
            if provider is not None:
                row.provider_handle = provider.to_json()
            return True

    def save_provider(self, training_id: str, provider: TrainingProviderState) -> None:
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is not None and row.status not in TERMINAL:
                row.provider_handle = provider.to_json()

    def started(self, training_id: str, handle: Handle) -> None:
        """The provider holds the training: keep its handle and record the transfer."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None:
                return
            saved = TrainingProviderState.from_json(row.provider_handle)
            row.provider_handle = saved.started(handle.data).to_json()
            row.provider_request_id = str(handle.data.get("request_id") or "")
            row.provider_key_id = str(handle.data.get("key_id") or "")
            self._audit.record(
                db,
                subject=row.user_id,
                actor="system",
                action="provider.transfer",
                resource=("model", training_id),
                detail={"provider": handle.engine, "request_id": row.provider_request_id},
            )
            if row.status not in TERMINAL:
                move(row, Status.RUNNING)
                row.stage = "queued at the provider"

    def owned_request_ids(self, training_id: str) -> set[str]:
        """The request ids other trainings on the same engine already own."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id)
            assert row is not None
            query = select(Training.provider_request_id).where(
                Training.engine == row.engine,
                Training.id != row.id,
                Training.provider_request_id.is_not(None),
            )
            return {r for r in db.scalars(query) if r}

    def record_progress(
        self,
        training_id: str,
        *,
        stage: str,
        progress: float | None,
        eta_s: float | None,
        logs: tuple[str, ...],
    ) -> int:
        """Save a poll's news; returns how many polls the training has had."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return 0
            saved = TrainingProviderState.from_json(row.provider_handle)
            polls = saved.polls + 1
            # A poll that answered ends a run of retries: the backoff starts over.
            row.provider_handle = replace(saved, polls=polls, retries=0).to_json()
            row.stage = stage[:STAGE_MAX]
            if progress is not None:
                row.progress = progress
            row.eta_s = eta_s
            if logs:
                row.logs_tail = list(logs)[-LOGS_KEPT:]
            return polls

    def claim_cancel(self, training_id: str) -> bool:
        """True once per training: the caller then cancels it at the provider."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None:
                return False
            saved = TrainingProviderState.from_json(row.provider_handle)
            if saved.cancel_sent:
                return False
            row.provider_handle = replace(saved, cancel_sent=True).to_json()
            return True

    def store_model(self, training_id: str, engine_name: str, model: TrainedModel) -> None:
        """Keep our own encrypted, checksummed copy of the model (the provider's copy expires)."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id)
            if row is None or row.status == Status.CANCELLED:
                return  # cancelled while it ran: keep nothing
            user_id = row.user_id
        key = f"models/{training_id}/{model.artifact_name}"
        self._blobs.put(user_id, key, model.artifact)
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                self._blobs.delete(user_id, key)
                return
            row.weights_key, row.weights_sha256 = key, hashlib.sha256(model.artifact).hexdigest()
            move(row, Status.SUCCEEDED)
            row.stage, row.progress, row.eta_s = "ready", 1.0, 0.0
            row.finished_at = self._clock()
            saved = f"{engine_name} model saved ({len(model.artifact)} bytes)"
            row.logs_tail = [*row.logs_tail[-(LOGS_KEPT - 1) :], saved]
            if model.provider_url:
                row.params = {**row.params, "provider_weights_url": model.provider_url}
        log.info("training finished", extra={"training_id": training_id})

    def fail(self, training_id: str, reason: str, *, status: Status = Status.FAILED) -> None:
        """End an unfinished training without a model, saying why."""
        with self._db.transaction() as db:
            row = db.get(Training, training_id, with_for_update=True)
            if row is not None and row.status not in TERMINAL:
                move(row, status)
                row.stage, row.error = status.value, reason
                row.finished_at = self._clock()
        log.warning("training ended without a model", extra={"training_id": training_id})

    def untouched_since(self, cutoff: datetime) -> list[str]:
        """Unfinished jobs whose row has not changed since `cutoff` (their task may be lost)."""
        with self._db.transaction() as db:
            query = select(Training.id).where(
                Training.status.in_(ACTIVE), Training.updated_at < cutoff
            )
            return list(db.scalars(query))

    def touch(self, job_id: str) -> None:
        """Mark the row changed now (a job just enqueued again is not stale)."""
        with self._db.transaction() as db:
            row = db.get(Training, job_id)
            if row is not None:
                row.updated_at = self._clock()
