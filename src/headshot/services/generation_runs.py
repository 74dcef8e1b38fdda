"""The generation use case as the workers run it: one call per task, on a local or remote engine.

Idempotent: each headshot has an id derived from (generation, look, rank), so a re-run after a
killed worker skips what is already stored and finishes the rest. Remote engines go through
`RemoteGeneration`, one short step per run. Every image, from either kind of engine, becomes a
headshot in `GenerationStore.keep_images`.
"""

from __future__ import annotations

from datetime import datetime

from headshot.engines.protocol import EngineError, GenerationRequest, LocalEngine
from headshot.services.engines import EngineSet
from headshot.services.generation_store import GenerationJob, GenerationStore
from headshot.services.remote_generation import RemoteGeneration


class GenerationRuns:
    def __init__(
        self, *, store: GenerationStore, engines: EngineSet, remote: RemoteGeneration
    ) -> None:
        self._store = store
        self._engines = engines
        self._remote = remote

    def run(self, generation_id: str) -> None:
        """Advance the generation by one step (the whole of it on a local engine)."""
        job = self._store.begin_step(generation_id)
        if job is None:
            return
        remote = self._engines.remote.get(job.engine)
        if remote is not None:
            self._remote.step(remote, job)
            return
        local = self._engines.local.get(job.engine)
        if local is None:
            self._store.finish(generation_id, error=f"the {job.engine} engine is not configured")
            return
        self._render_here(local, job)

    def stale(self, cutoff: datetime) -> list[str]:
        """Unfinished jobs untouched since `cutoff`: their task may have died with its worker."""
        return self._store.untouched_since(cutoff)

    def touch(self, job_id: str) -> None:
        self._store.touch(job_id)

    def give_up(self, generation_id: str, reason: str) -> None:
        """End a generation whose task can no longer run (its retries are spent); the headshots
        already made are kept (`partial`)."""
        self._store.finish(generation_id, error=reason, keep_made=True)

    def _render_here(self, engine: LocalEngine, job: GenerationJob) -> None:
        """Each look in one call: `candidates_per_look` images from consecutive seeds, culled
        to the best `per_look` in `keep_images`."""
        store = self._store
        artifact = store.weights(job)
        for look_index, look in enumerate(job.looks):
            if store.is_cancelled(job.id):
                return
            if not store.look_is_stored(job, look_index):
                request = GenerationRequest(
                    job_id=job.id,
                    look=look,
                    prompt=job.prompt(look),
                    num_images=job.candidates_per_look,
                    seed=job.look_seed(look_index),
                    weights_url=None,
                    model_artifact=artifact,
                )
                try:
                    images = engine.generate(request)
                except EngineError as exc:
                    store.finish(job.id, error=str(exc))
                    return
                store.keep_images(job, look_index, images)
            store.set_progress(job.id, (look_index + 1) / len(job.looks))
        store.finish(job.id)
