"""fal webhooks: a verified completion notice makes the job's next step run now instead of at
its next scheduled poll, and settles a lost submit (its request id is the reconciliation hint).
The webhook is only a hint: the step reads the provider's state itself, so a replayed or forged
notice cannot change a result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from headshot.domain.jobs import TERMINAL, Status
from headshot.domain.provider_state import TrainingProviderState
from headshot.engines.fal.webhooks import FalWebhookVerifier
from headshot.services.queue import JobQueue
from headshot.storage.db import Database
from headshot.storage.records import Generation, Training


class FalWebhooks:
    def __init__(self, *, verifier: FalWebhookVerifier, db: Database, queue: JobQueue) -> None:
        self._verifier = verifier
        self._db = db
        self._queue = queue

    def receive(self, headers: Mapping[str, str], body: bytes, *, query: Mapping[str, str]) -> None:
        """Raise the verifier's errors for unsigned or stale notices; ignore ones not for us."""
        event = self._verifier.verify(headers, body, query=query)
        if event.job_id is None:
            return
        with self._db.transaction() as db:
            training = db.get(Training, event.job_id, with_for_update=True)
            if training is not None and training.status not in TERMINAL:
                if training.status in {Status.SUBMITTING, Status.AMBIGUOUS}:
                    saved = TrainingProviderState.from_json(training.provider_handle)
                    hinted = replace(saved, request_id_hint=event.request_id)
                    training.provider_handle = hinted.to_json()
                kind = "training"
            elif (generation := db.get(Generation, event.job_id)) is not None and (
                generation.status not in TERMINAL
            ):
                kind = "generation"
            else:
                return
        if kind == "training":
            self._queue.run_training(event.job_id)
        else:
            self._queue.run_generation(event.job_id)
