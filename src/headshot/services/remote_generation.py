"""Generations on a remote engine (fal): each look is submitted once, polled, fetched and stored,
one short step per task run.

Each look has a `LookSubmission` in the generation row, written as `submitting` before the paid
call and given its handle right after. A look found `submitting` or `ambiguous` is reconciled
with the provider. A generation costs cents, not dollars, so unlike a training a lost look is
submitted again once the provider's listing has had time to show it and still does not
(docs/engines.md). One look's trouble never stops the others: a look the provider does not
take waits, a look that cannot be made is given up with its reason, and the generation ends
`partial` when some looks were made and others were given up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from headshot.domain.backoff import Backoff
from headshot.domain.provider_state import LookSubmission
from headshot.engines.protocol import (
    EngineError,
    GenerationRequest,
    Handle,
    RemoteEngine,
    RetryableEngineError,
    SubmitOutcomeUnknownError,
)
from headshot.services.generation_store import GenerationJob, GenerationStore
from headshot.services.queue import JobQueue
from headshot.settings import JobSettings

log = logging.getLogger(__name__)
UNCONFIRMED = (
    "We could not confirm that the provider received this look; nothing was submitted twice. "
    "Please try again."
)
SETTLED = frozenset({"done", "failed"})


class LookWaits(Exception):
    """The provider did not take a call for this look now; the step retries it later."""

    def __init__(self, look: LookSubmission, cause: RetryableEngineError) -> None:
        super().__init__(str(cause))
        self.look = look
        self.retry_after_s = cause.retry_after_s


class RemoteGeneration:
    def __init__(
        self,
        *,
        store: GenerationStore,
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

    def step(self, engine: RemoteEngine, job: GenerationJob) -> None:
        """Advance every look by one step, then end the generation or schedule the next step."""
        looks = self._store.looks(job.id)
        waiting: list[LookWaits] = []
        for index in range(len(job.looks)):
            current = looks.get(index)
            if current is not None and current.state in SETTLED:
                continue
            try:
                looks[index] = self._advance(engine, job, index, current)
            except LookWaits as wait:
                looks[index] = wait.look
                waiting.append(wait)
            except EngineError as exc:
                looks[index] = self._give_up(job, index, current, str(exc))
        states = [looks[i].state for i in range(len(job.looks))]
        self._store.set_progress(job.id, sum(s == "done" for s in states) / len(states))
        if all(state in SETTLED for state in states):
            self._store.finish(job.id)
        else:
            self._queue.run_generation(job.id, delay_s=self._next_delay(states, waiting))

    def _advance(
        self, engine: RemoteEngine, job: GenerationJob, index: int, current: LookSubmission | None
    ) -> LookSubmission:
        if current is None or current.state == "waiting":
            return self._submit(engine, job, index, retries=current.retries if current else 0)
        if current.state in {"submitting", "ambiguous"}:
            return self._reconcile(engine, job, current)
        return self._poll(engine, job, current)

    def _submit(
        self, engine: RemoteEngine, job: GenerationJob, index: int, *, retries: int
    ) -> LookSubmission:
        look = job.looks[index]
        try:
            weights_url = self._weights_url(engine, job)
        except RetryableEngineError as exc:
            later = LookSubmission(look=index, state="waiting", retries=retries + 1)
            self._store.save_look(job.id, later)
            raise LookWaits(later, exc) from exc
        request = GenerationRequest(
            job_id=job.id,
            look=look,
            prompt=job.prompt(look),
            num_images=job.candidates_per_look,  # one billed submit; culled in keep_images
            seed=job.look_seed(index),
            weights_url=weights_url,
            model_artifact=None,
        )
        intent = LookSubmission(look=index, state="submitting", sent_after=self._clock())
        self._store.save_look(job.id, intent)
        try:
            handle = engine.submit_generation(request)
        except SubmitOutcomeUnknownError as exc:
            lost = replace(intent, state="ambiguous", request_id_hint=exc.request_id)
            self._store.save_look(job.id, lost)
            return lost
        except RetryableEngineError as exc:
            # Provably not taken: submit it again later.
            later = LookSubmission(look=index, state="waiting", retries=retries + 1)
            self._store.save_look(job.id, later)
            raise LookWaits(later, exc) from exc
        running = intent.running(handle.data)
        self._store.save_look(job.id, running)
        self._store.record_transfer(job, engine.name, running.request_ids())
        return running

    def _reconcile(
        self, engine: RemoteEngine, job: GenerationJob, look: LookSubmission
    ) -> LookSubmission:
        attempts = look.attempts + 1
        sent_after = look.sent_after or self._clock()
        try:
            outcome = engine.reconcile(
                "generation",
                sent_after=sent_after,
                known_request_ids=self._store.owned_request_ids(),
                request_id_hint=look.request_id_hint,
            )
        except RetryableEngineError:
            outcome = None  # the listing is unreachable: this check counts, and proves nothing
        if outcome is not None and outcome.outcome == "found" and outcome.handle is not None:
            found = look.running(outcome.handle.data)
            self._store.save_look(job.id, found)
            return found
        lag = timedelta(seconds=self._timing.listing_lag_s)
        if (
            outcome is not None
            and outcome.outcome == "absent"
            and self._clock() >= sent_after + lag
        ):
            # The listing has had time to show it and does not: fal never took it.
            log.info(
                "lost look absent at the provider; submitting it again", extra={"look": look.look}
            )
            return self._submit(engine, job, look.look, retries=0)
        if attempts >= self._timing.reconcile_attempts:
            raise EngineError(UNCONFIRMED)
        checked = replace(look, state="ambiguous", attempts=attempts)
        self._store.save_look(job.id, checked)
        return checked

    def _poll(
        self, engine: RemoteEngine, job: GenerationJob, look: LookSubmission
    ) -> LookSubmission:
        handle = Handle(engine.name, "generation", look.handle or {})
        try:
            status = engine.poll(handle)
            if status.state in {"failed", "cancelled"}:
                raise EngineError(status.error or "the provider could not make these headshots")
            if status.state != "succeeded":
                return self._answered(job, look)
            images = engine.fetch_generation(handle)
        except RetryableEngineError as exc:
            later = replace(look, retries=look.retries + 1)
            self._store.save_look(job.id, later)
            raise LookWaits(later, exc) from exc
        self._store.keep_images(job, look.look, images)
        done = replace(look, state="done", retries=0)
        self._store.save_look(job.id, done)
        return done

    def _answered(self, job: GenerationJob, look: LookSubmission) -> LookSubmission:
        """The provider answered a poll: a run of retries ends, the backoff starts over."""
        if not look.retries:
            return look
        fresh = replace(look, retries=0)
        self._store.save_look(job.id, fresh)
        return fresh

    def _give_up(
        self, job: GenerationJob, index: int, current: LookSubmission | None, reason: str
    ) -> LookSubmission:
        base = current or LookSubmission(look=index, state="failed")
        failed = base.given_up(reason)
        self._store.save_look(job.id, failed)
        log.warning("look given up", extra={"generation_id": job.id, "look": index})
        return failed

    def _weights_url(self, engine: RemoteEngine, job: GenerationJob) -> str:
        cached = self._store.provider_weights_url(job)
        if cached:
            return cached
        # The provider's copy expired or never existed (e.g. a studio-era model): re-upload ours.
        return engine.reupload_weights(self._store.weights(job))

    def _next_delay(self, states: Sequence[str], waiting: Sequence[LookWaits]) -> float:
        if waiting:
            retry = max(w.look.retries for w in waiting) - 1
            after = max((w.retry_after_s or 0.0) for w in waiting) or None
            return self._backoff.delay(retry, retry_after_s=after, draw=self._draw())
        if all(state in SETTLED | {"ambiguous", "submitting"} for state in states):
            return self._timing.reconcile_s  # only lost submits left: check at their pace
        return self._timing.first_poll_s
