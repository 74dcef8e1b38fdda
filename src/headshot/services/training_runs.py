"""The training use case as the workers run it: one call per task, on a local or remote engine.

Idempotent: a finished or cancelled training is left alone, and a local training that a killed
worker left half-done simply runs again (it costs nothing but CPU). Remote engines go through
`RemoteTraining`, one short step per run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from headshot.domain.jobs import TERMINAL, Status
from headshot.engines.protocol import EngineError, LocalEngine
from headshot.services.engines import EngineSet
from headshot.services.remote_training import RemoteTraining
from headshot.services.training_store import TrainingStore


class TrainingRuns:
    def __init__(
        self,
        *,
        store: TrainingStore,
        engines: EngineSet,
        remote: RemoteTraining,
        discard_dataset: Callable[[str], object] | None = None,
    ) -> None:
        self._store = store
        self._engines = engines
        self._remote = remote
        self._discard_dataset = discard_dataset

    def run(self, training_id: str) -> None:
        """Advance the training by one step (the whole of it on a local engine)."""
        job = self._store.begin_step(training_id)
        if job is None:
            return
        remote = self._engines.remote.get(job.engine)
        if remote is not None:
            try:
                self._remote.step(remote, training_id, job)
            finally:
                # The selfie zip lives exactly as long as its training runs.
                if self._discard_dataset is not None:
                    self._discard_dataset(training_id)
            return
        if job.status in TERMINAL:
            return
        local = self._engines.local.get(job.engine)
        if local is None:
            self._store.fail(training_id, f"the {job.engine} engine is not configured here")
            return
        self._train_here(local, training_id)

    def stale(self, cutoff: datetime) -> list[str]:
        """Unfinished jobs untouched since `cutoff`: their task may have died with its worker."""
        return self._store.untouched_since(cutoff)

    def touch(self, job_id: str) -> None:
        self._store.touch(job_id)

    def give_up(self, training_id: str, reason: str) -> None:
        """End a training whose task can no longer run (its retries are spent)."""
        self._store.fail(training_id, reason)

    def _train_here(self, engine: LocalEngine, training_id: str) -> None:
        store = self._store
        store.set_stage(training_id, Status.RUNNING, "preparing photos", progress=0.05)
        try:
            request = store.request(training_id)
            store.set_stage(training_id, Status.RUNNING, "training", progress=0.2)
            model = engine.train(request)
        except EngineError as exc:
            store.fail(training_id, str(exc))
            return
        store.store_model(training_id, engine.name, model)
