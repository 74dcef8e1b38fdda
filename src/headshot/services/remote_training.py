"""Trainings on a remote engine (fal), one short step per task run, never a worker blocked for the
length of a training. Each step reads the row, talks to the provider once, writes the row and
schedules the next step:

    queued ─submit─▶ running ─poll…─▶ fetching ─fetch─▶ succeeded
       ▲  ╲
       │   ╲ the answer was lost ─▶ ambiguous ─reconcile…─▶ running | failed (operator)
       └── provider unreachable or busy: replayed later (the offline queue)

Submit safety (docs/engines.md): intent is persisted as `submitting` before the paid call; a run
that finds a job still `submitting` cannot know whether the call went out, so it treats it as
`ambiguous` and reconciles instead of submitting again. A training is never resubmitted by us.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from headshot.domain.backoff import Backoff
from headshot.domain.jobs import TERMINAL, Status
from headshot.domain.provider_state import TrainingProviderState
from headshot.engines.protocol import (
    EngineError,
    Handle,
    JobStatus,
    ProviderAuthError,
    RemoteEngine,
    RetryableEngineError,
    SubmitOutcomeUnknownError,
)
from headshot.services.queue import JobQueue
from headshot.services.training_store import TrainingSnapshot, TrainingStore
from headshot.settings import JobSettings

log = logging.getLogger(__name__)
GAVE_UP = (
    "We could not confirm whether the provider received this training. An operator must check "
    "before it is submitted again; nothing was resubmitted."
)
CHECKING = "checking with the provider"
T = TypeVar("T")


class RemoteTraining:
    def __init__(
        self,
        *,
        store: TrainingStore,
        queue: JobQueue,
        timing: JobSettings,
        clock: Callable[[], datetime],
        draw: Callable[[], float],
    ) -> None:
        self._store = store
        self._queue = queue
        self._timing = timing
        self._clock = clock
        self._draw = draw
        self._backoff = Backoff(timing.retry_s, timing.retry_max_s)

    def step(self, engine: RemoteEngine, training_id: str, job: TrainingSnapshot) -> None:
        handle = _handle(engine, job.provider)
        if job.status in TERMINAL:
            if job.status == Status.CANCELLED and handle is not None:
                self._cancel_at_provider(engine, training_id, handle)
            return
        if job.status == Status.QUEUED:
            self._submit(engine, training_id, job.provider)
        elif job.status in {Status.SUBMITTING, Status.AMBIGUOUS}:
            self._reconcile(engine, training_id, job.provider)
        elif handle is not None and job.status == Status.RUNNING:
            self._poll(engine, training_id, handle, job.provider)
        elif handle is not None and job.status == Status.FETCHING:
            self._fetch(engine, training_id, handle, job.provider)

    def _submit(self, engine: RemoteEngine, training_id: str, saved: TrainingProviderState) -> None:
        request = self._store.request(training_id)
        intent = TrainingProviderState(sent_after=self._clock(), retries=saved.retries)
        if not self._store.set_stage(
            training_id,
            Status.SUBMITTING,
            "sending photos",
            provider=intent,
            only_from=Status.QUEUED,
        ):
            return  # another worker got here first
        try:
            handle = engine.submit_training(request)
        except SubmitOutcomeUnknownError as exc:
            lost = replace(intent, request_id_hint=exc.request_id)
            self._store.set_stage(training_id, Status.AMBIGUOUS, CHECKING, provider=lost)
            self._queue.run_training(training_id, delay_s=self._timing.reconcile_s)
            return
        except (RetryableEngineError, ProviderAuthError) as exc:
            # Provably not accepted: back to the queue, replayed when the provider is reachable.
            waiting = replace(intent, retries=intent.retries + 1)
            self._store.set_stage(
                training_id, Status.QUEUED, "waiting for the provider", provider=waiting
            )
            self._queue.run_training(training_id, delay_s=self._retry_delay(intent.retries, exc))
            return
        except EngineError as exc:
            self._store.fail(training_id, str(exc))
            return
        self._started(training_id, handle)

    def _started(self, training_id: str, handle: Handle) -> None:
        self._store.started(training_id, handle)
        self._queue.run_training(training_id, delay_s=self._timing.first_poll_s)

    def _reconcile(
        self, engine: RemoteEngine, training_id: str, saved: TrainingProviderState
    ) -> None:
        attempts = saved.reconcile_attempts + 1
        try:
            outcome = engine.reconcile(
                "training",
                sent_after=saved.sent_after or self._clock(),
                known_request_ids=self._store.owned_request_ids(training_id),
                request_id_hint=saved.request_id_hint,
            )
        except RetryableEngineError:
            outcome = None  # the listing is unreachable: this check counts, and proves nothing
        if outcome is not None and outcome.outcome == "found" and outcome.handle is not None:
            self._started(training_id, outcome.handle)
            return
        # Absent or unclear: a training costs dollars, so it is never resubmitted by us.
        if attempts >= self._timing.reconcile_attempts:
            self._store.fail(training_id, GAVE_UP)
            return
        checked = replace(saved, reconcile_attempts=attempts)
        self._store.set_stage(training_id, Status.AMBIGUOUS, CHECKING, provider=checked)
        self._queue.run_training(training_id, delay_s=self._timing.reconcile_s)

    def _poll(
        self,
        engine: RemoteEngine,
        training_id: str,
        handle: Handle,
        saved: TrainingProviderState,
    ) -> None:
        status = self._provider_call(training_id, saved, lambda: engine.poll(handle))
        if status is None:
            return
        if status.state == "succeeded":
            self._store.set_stage(training_id, Status.FETCHING, "saving your model", progress=0.97)
            self._fetch(engine, training_id, handle, saved)
            return
        if status.state in {"failed", "cancelled"}:
            ended = Status.CANCELLED if status.state == "cancelled" else Status.FAILED
            reason = status.error or f"the provider {status.state} it"
            self._store.fail(training_id, reason, status=ended)
            return
        polls = self._record_progress(training_id, status)
        delay = min(self._timing.max_poll_s, self._timing.first_poll_s * 1.5**polls)
        self._queue.run_training(training_id, delay_s=delay)

    def _record_progress(self, training_id: str, status: JobStatus) -> int:
        stage = status.stage
        if status.queue_position is not None and status.state == "queued":
            stage = f"queued at the provider (#{status.queue_position + 1})"
        progress = None if status.progress is None else round(0.05 + 0.9 * status.progress, 3)
        return self._store.record_progress(
            training_id, stage=stage, progress=progress, eta_s=status.eta_s, logs=status.logs
        )

    def _provider_call(
        self, training_id: str, saved: TrainingProviderState, call: Callable[[], T]
    ) -> T | None:
        """`call`'s answer, or None once a transient refusal is scheduled for a replay or a
        final one has failed the training."""
        try:
            return call()
        except RetryableEngineError as exc:
            self._replay_later(training_id, saved, exc)
        except EngineError as exc:
            self._store.fail(training_id, str(exc))
        return None

    def _fetch(
        self,
        engine: RemoteEngine,
        training_id: str,
        handle: Handle,
        saved: TrainingProviderState,
    ) -> None:
        model = self._provider_call(training_id, saved, lambda: engine.fetch_training(handle))
        if model is None:
            return
        self._store.store_model(training_id, engine.name, model)

    def _cancel_at_provider(self, engine: RemoteEngine, training_id: str, handle: Handle) -> None:
        if not self._store.claim_cancel(training_id):
            return
        try:
            engine.cancel(handle)
        except EngineError:
            log.warning("provider cancel failed", extra={"training_id": training_id})

    def _replay_later(
        self, training_id: str, saved: TrainingProviderState, exc: RetryableEngineError
    ) -> None:
        """Run the same step again once the provider is reachable (honouring its Retry-After)."""
        self._store.save_provider(training_id, replace(saved, retries=saved.retries + 1))
        self._queue.run_training(training_id, delay_s=self._retry_delay(saved.retries, exc))

    def _retry_delay(self, retry: int, exc: RetryableEngineError | ProviderAuthError) -> float:
        after = exc.retry_after_s if isinstance(exc, RetryableEngineError) else None
        return self._backoff.delay(retry, retry_after_s=after, draw=self._draw())


def _handle(engine: RemoteEngine, provider: TrainingProviderState) -> Handle | None:
    return None if provider.handle is None else Handle(engine.name, "training", provider.handle)
