"""The training task: reads the dataset from storage, runs the engine, stores the model.

Idempotent: a finished or cancelled training is left alone, and a local training that a killed
worker left half-done simply runs again (it costs nothing but CPU). Remote engines go through
`jobs.remote_training`, one short step per run.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select

from headshot.domain.jobs import TERMINAL
from headshot.engines.protocol import EngineError, TrainingImage, TrainingRequest
from headshot.services.consent_gate import halt_without_consent
from headshot.services.container import Services
from headshot.storage.records import Photo, Training

log = logging.getLogger(__name__)


def run_training(services: Services, training_id: str) -> None:
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None:
            return
        halt_without_consent(db, row, clock=services.clock, audit=services.audit)
        engine_name, status = row.engine, row.status
    remote = services.engines.remote.get(engine_name)
    if remote is not None:
        from headshot.jobs.remote_training import step_training

        step_training(services, remote, training_id)
        return
    if status in TERMINAL:
        return
    local = services.engines.local.get(engine_name)
    if local is None:
        fail_training(services, training_id, f"the {engine_name} engine is not configured here")
        return
    _set(services, training_id, status="running", stage="preparing photos", progress=0.05)
    try:
        request = training_request(services, training_id)
        _set(services, training_id, status="running", stage="training", progress=0.2)
        model = local.train(request)
    except EngineError as exc:
        fail_training(services, training_id, str(exc))
        return
    store_model(services, training_id, local.name, model.artifact, model.artifact_name)


def training_request(services: Services, training_id: str) -> TrainingRequest:
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        assert row is not None
        photo_ids = list(row.params.get("photo_ids", []))
        photos = db.scalars(select(Photo).where(Photo.id.in_(photo_ids))).all()
        keys = sorted((p.id, p.training_key) for p in photos if p.training_key)
        user_id, trigger = row.user_id, row.trigger_phrase
        steps, options = int(row.params.get("steps", 0)), dict(row.params.get("options", {}))
    images = tuple(
        TrainingImage(name=f"img{i:02d}.jpg", jpeg=services.blobs.read(user_id, key))
        for i, (_, key) in enumerate(keys, start=1)
        if key is not None
    )
    return TrainingRequest(
        job_id=training_id, images=images, trigger_phrase=trigger, steps=steps, options=options
    )


def store_model(
    services: Services,
    training_id: str,
    engine_name: str,
    artifact: bytes,
    name: str,
    *,
    provider_url: str | None = None,
) -> None:
    """Keep our own encrypted, checksummed copy of the model (the provider's copy expires)."""
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        if row is None or row.status == "cancelled":
            return  # cancelled while it ran: keep nothing
        user_id = row.user_id
    key = f"models/{training_id}/{name}"
    services.blobs.put(user_id, key, artifact)
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None or row.status in TERMINAL:
            services.blobs.delete(user_id, key)
            return
        row.weights_key, row.weights_sha256 = key, hashlib.sha256(artifact).hexdigest()
        row.status, row.stage, row.progress, row.eta_s = "succeeded", "ready", 1.0, 0.0
        row.finished_at = services.clock()
        row.logs_tail = [*row.logs_tail[-19:], f"{engine_name} model saved ({len(artifact)} bytes)"]
        if provider_url:
            row.params = {**row.params, "provider_weights_url": provider_url}
    log.info("training finished", extra={"training_id": training_id})


def fail_training(
    services: Services, training_id: str, reason: str, *, status: str = "failed"
) -> None:
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        if row is not None and row.status not in TERMINAL:
            row.status, row.stage, row.error = status, status, reason
            row.finished_at = services.clock()
    log.warning("training ended without a model", extra={"training_id": training_id})


def _set(services: Services, training_id: str, *, status: str, stage: str, progress: float) -> None:
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        if row is not None and row.status not in TERMINAL:
            row.status, row.stage, row.progress = status, stage, progress
