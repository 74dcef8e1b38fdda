"""Trainings on a remote engine (fal), one short step per task run, never a worker blocked for the
length of a training. Each step reads the row, talks to the provider once, writes the row and
schedules the next step:

    queued ─submit─▶ running ─poll…─▶ fetching ─fetch─▶ succeeded
       ▲  ╲
       │   ╲ the answer was lost ─▶ ambiguous ─reconcile…─▶ running | failed (operator)
       └── provider unreachable or busy: replayed later (the offline queue)

Submit safety (see docs/engines.md): intent is persisted as `submitting` before the paid call;
a run that finds a job still `submitting` cannot know whether the call went out, so it treats
it as `ambiguous` and reconciles instead of submitting again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from headshot.domain.jobs import TERMINAL
from headshot.engines.protocol import (
    Engine,
    EngineError,
    Handle,
    JobStatus,
    ProviderAuthError,
    RetryableEngineError,
    SubmitOutcomeUnknownError,
)
from headshot.jobs.training import fail_training, store_model, training_request
from headshot.services.container import Services
from headshot.storage.records import Training

log = logging.getLogger(__name__)
STAGE_MAX = 80  # the width of `trainings.stage`
GAVE_UP = (
    "We could not confirm whether the provider received this training. An operator must check "
    "before it is submitted again; nothing was resubmitted."
)


def step_training(services: Services, engine: Engine, training_id: str) -> None:
    try:
        _step(services, engine, training_id)
    finally:
        # The selfie zip lives exactly as long as its training runs.
        if services.datasets is not None:
            services.datasets.discard(training_id)


def _step(services: Services, engine: Engine, training_id: str) -> None:
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        if row is None:
            return
        status, handle = row.status, _handle(engine, row)
    if status in TERMINAL:
        if status == "cancelled" and handle is not None:
            _cancel_at_provider(services, engine, training_id, handle)
        return
    if status == "queued":
        _submit(services, engine, training_id)
    elif status in {"submitting", "ambiguous"}:
        _reconcile(services, engine, training_id)
    elif handle is not None and status == "running":
        _poll(services, engine, training_id, handle)
    elif handle is not None and status == "fetching":
        _fetch(services, engine, training_id, handle)


def _submit(services: Services, engine: Engine, training_id: str) -> None:
    request = training_request(services, training_id)
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None or row.status != "queued":
            return  # another worker got here first
        row.status, row.stage = "submitting", "sending photos"
        row.provider_handle = {"sent_after": services.clock().isoformat()}
    try:
        handle = engine.submit_training(request)
    except SubmitOutcomeUnknownError as exc:
        hint = getattr(exc, "request_id", None)
        _update(
            services,
            training_id,
            status="ambiguous",
            stage="checking with the provider",
            extra={"request_id_hint": hint},
        )
        services.queue.run_training(training_id, delay_s=services.settings.jobs.reconcile_s)
        return
    except (RetryableEngineError, ProviderAuthError) as exc:
        # Provably not accepted: back to the queue, replayed when the provider is reachable.
        delay = getattr(exc, "retry_after_s", None) or services.settings.jobs.retry_s
        _update(services, training_id, status="queued", stage="waiting for the provider")
        services.queue.run_training(training_id, delay_s=delay)
        return
    except EngineError as exc:
        fail_training(services, training_id, str(exc))
        return
    _started(services, training_id, handle)


def _started(services: Services, training_id: str, handle: Handle) -> None:
    data = dict(handle.data)
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None:
            return
        row.provider_handle = {**data, "polls": 0}
        row.provider_request_id = str(data.get("request_id") or "")
        row.provider_key_id = str(data.get("key_id") or "")
        services.audit.record(
            db,
            subject=row.user_id,
            actor="system",
            action="provider.transfer",
            resource=("model", training_id),
            detail={"provider": handle.engine, "request_id": row.provider_request_id},
        )
        if row.status not in TERMINAL:
            row.status, row.stage = "running", "queued at the provider"
    services.queue.run_training(training_id, delay_s=services.settings.jobs.first_poll_s)


def _reconcile(services: Services, engine: Engine, training_id: str) -> None:
    reconcile = getattr(engine, "reconcile", None)
    saved, known = _reconcile_inputs(services, training_id)
    attempts = int(saved.get("reconcile_attempts", 0)) + 1
    if reconcile is None:
        fail_training(services, training_id, GAVE_UP)
        return
    try:
        outcome = reconcile(
            "training",
            sent_after=datetime.fromisoformat(str(saved.get("sent_after"))),
            known_request_ids=known,
            request_id_hint=saved.get("request_id_hint"),
        )
    except RetryableEngineError:
        outcome = None
    if outcome is not None and outcome.outcome == "found" and outcome.handle is not None:
        _started(services, training_id, outcome.handle)
        return
    if attempts >= services.settings.jobs.reconcile_attempts:
        fail_training(services, training_id, GAVE_UP)
        return
    _update(
        services,
        training_id,
        status="ambiguous",
        stage="checking with the provider",
        extra={"reconcile_attempts": attempts},
    )
    services.queue.run_training(training_id, delay_s=services.settings.jobs.reconcile_s)


def _reconcile_inputs(services: Services, training_id: str) -> tuple[dict[str, Any], set[str]]:
    """The saved submit facts, and the request ids other trainings already own."""
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        assert row is not None
        query = select(Training.provider_request_id).where(
            Training.engine == row.engine,
            Training.id != row.id,
            Training.provider_request_id.is_not(None),
        )
        return dict(row.provider_handle or {}), {r for r in db.scalars(query) if r}


def _poll(services: Services, engine: Engine, training_id: str, handle: Handle) -> None:
    try:
        status = engine.poll(handle)
    except RetryableEngineError as exc:
        _replay_later(services, training_id, exc)
        return
    except EngineError as exc:
        fail_training(services, training_id, str(exc))
        return
    if status.state == "succeeded":
        _update(services, training_id, status="fetching", stage="saving your model", progress=0.97)
        _fetch(services, engine, training_id, handle)
        return
    if status.state in {"failed", "cancelled"}:
        fail_training(
            services,
            training_id,
            status.error or f"the provider {status.state} it",
            status="cancelled" if status.state == "cancelled" else "failed",
        )
        return
    polls = _record_progress(services, training_id, status)
    timing = services.settings.jobs
    services.queue.run_training(
        training_id, delay_s=min(timing.max_poll_s, timing.first_poll_s * 1.5**polls)
    )


def _record_progress(services: Services, training_id: str, status: JobStatus) -> int:
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None or row.status in TERMINAL:
            return 0
        saved = dict(row.provider_handle or {})
        polls = int(saved.get("polls", 0)) + 1
        row.provider_handle = {**saved, "polls": polls}
        stage = status.stage
        if status.queue_position is not None and status.state == "queued":
            stage = f"queued at the provider (#{status.queue_position + 1})"
        row.stage = stage[:STAGE_MAX]
        if status.progress is not None:
            row.progress = round(0.05 + 0.9 * status.progress, 3)
        row.eta_s = status.eta_s
        if status.logs:
            row.logs_tail = list(status.logs)[-20:]
        return polls


def _fetch(services: Services, engine: Engine, training_id: str, handle: Handle) -> None:
    try:
        model = engine.fetch_training(handle)
    except RetryableEngineError as exc:
        _replay_later(services, training_id, exc)
        return
    except EngineError as exc:
        fail_training(services, training_id, str(exc))
        return
    store_model(
        services,
        training_id,
        engine.name,
        model.artifact,
        model.artifact_name,
        provider_url=model.provider_url,
    )


def _cancel_at_provider(
    services: Services, engine: Engine, training_id: str, handle: Handle
) -> None:
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None or (row.provider_handle or {}).get("cancel_sent"):
            return
        row.provider_handle = {**(row.provider_handle or {}), "cancel_sent": True}
    try:
        engine.cancel(handle)
    except EngineError:
        log.warning("provider cancel failed", extra={"training_id": training_id})


def _replay_later(services: Services, training_id: str, exc: RetryableEngineError) -> None:
    """Run the same step again once the provider is reachable (honouring its Retry-After)."""
    delay = exc.retry_after_s or services.settings.jobs.retry_s
    services.queue.run_training(training_id, delay_s=delay)


def _handle(engine: Engine, row: Training) -> Handle | None:
    data = row.provider_handle or {}
    if not data.get("request_id") and not data.get("status_url"):
        return None
    return Handle(engine.name, "training", data)


def _update(
    services: Services,
    training_id: str,
    *,
    status: str,
    stage: str,
    progress: float | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    with services.db.transaction() as db:
        row = db.get(Training, training_id, with_for_update=True)
        if row is None or row.status in TERMINAL:
            return
        row.status, row.stage = status, stage[:STAGE_MAX]
        if progress is not None:
            row.progress = progress
        if extra:
            row.provider_handle = {**(row.provider_handle or {}), **extra}
