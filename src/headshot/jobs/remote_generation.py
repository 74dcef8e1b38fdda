"""Generations on a remote engine (fal): submit each look once, poll, fetch, store.

The generation row's `provider_request_ids` holds one entry per look: `{"look": i, "state": …,
"handle": …}`. The entry is written as `submitting` before the paid call and gets its handle right
after, so a re-run never submits a look twice: a look found `submitting` or `ambiguous` is
reconciled with the provider (as trainings are), never resubmitted behind the person's back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from headshot.domain.jobs import TERMINAL
from headshot.domain.privacy import generation_request_ids
from headshot.engines.protocol import (
    Engine,
    EngineError,
    GenerationRequest,
    Handle,
    RetryableEngineError,
    SubmitOutcomeUnknownError,
)
from headshot.jobs.generation import (
    Job,
    finish_generation,
    headshot_id,
    load_generation,
    prompt_for,
    save_headshot,
    set_progress,
)
from headshot.services.container import Services
from headshot.storage.records import Generation, Training


def step_generation(services: Services, engine: Engine, generation_id: str) -> None:
    job = load_generation(services, generation_id)
    if job is None:
        return
    entries = _entries(services, generation_id)
    try:
        _step_looks(services, engine, job, generation_id, entries)
    except RetryableEngineError as exc:
        services.queue.run_generation(
            generation_id, delay_s=exc.retry_after_s or services.settings.jobs.retry_s
        )
        return
    except EngineError as exc:
        finish_generation(services, generation_id, error=str(exc))
        return
    done = sum(1 for e in entries.values() if e["state"] == "done")
    set_progress(services, generation_id, done / len(job.looks))
    if done == len(job.looks):
        finish_generation(services, generation_id, error=None)
    else:
        services.queue.run_generation(generation_id, delay_s=services.settings.jobs.first_poll_s)


def _step_looks(
    services: Services,
    engine: Engine,
    job: Job,
    generation_id: str,
    entries: dict[int, dict[str, Any]],
) -> None:
    """Advance every look by one step: submit, reconcile or poll-and-fetch."""
    for index in range(len(job.looks)):
        if index not in entries:
            entries[index] = _submit(services, engine, job, generation_id, index)
    for index, entry in sorted(entries.items()):
        if entry["state"] in {"submitting", "ambiguous"}:
            entries[index] = _reconcile(services, engine, generation_id, entry)
        elif entry["state"] == "running":
            _advance(services, engine, job, generation_id, index, entry)


def _submit(
    services: Services, engine: Engine, job: Job, generation_id: str, index: int
) -> dict[str, Any]:
    look = job.looks[index]
    weights_url = _weights_url(services, engine, job)
    request = GenerationRequest(
        job_id=generation_id,
        look=look,
        prompt=prompt_for(job.trigger, look),
        num_images=job.per_look,
        seed=job.seed + index * 1000,
        weights_url=weights_url,
        model_artifact=None,
    )
    intent = {"look": index, "state": "submitting", "sent_after": services.clock().isoformat()}
    _save_entry(services, generation_id, intent)
    try:
        handle = engine.submit_generation(request)
    except SubmitOutcomeUnknownError as exc:
        ambiguous = {**intent, "state": "ambiguous", "hint": getattr(exc, "request_id", None)}
        _save_entry(services, generation_id, ambiguous)
        return ambiguous
    except RetryableEngineError:
        _drop_entry(services, generation_id, index)  # provably not taken: submit again later
        raise
    entry = {"look": index, "handle": dict(handle.data), "state": "running"}
    _save_entry(services, generation_id, entry)
    with services.db.transaction() as db:
        services.audit.record(
            db,
            subject=job.user_id,
            actor="system",
            action="provider.transfer",
            resource=("generation", generation_id),
            detail={"provider": handle.engine, "request_ids": generation_request_ids([entry])},
        )
    return entry


def _reconcile(
    services: Services, engine: Engine, generation_id: str, entry: dict[str, Any]
) -> dict[str, Any]:
    reconcile = getattr(engine, "reconcile", None)
    attempts = int(entry.get("attempts", 0)) + 1
    if reconcile is None or attempts > services.settings.jobs.reconcile_attempts:
        raise EngineError(
            "We could not confirm that the provider received part of this request; nothing "
            "was submitted twice. Please try again."
        )
    outcome = reconcile(
        "generation",
        sent_after=datetime.fromisoformat(str(entry["sent_after"])),
        known_request_ids=_owned_request_ids(services),
        request_id_hint=entry.get("hint"),
    )
    if outcome.outcome == "found" and outcome.handle is not None:
        found = {"look": entry["look"], "handle": dict(outcome.handle.data), "state": "running"}
    else:
        found = {**entry, "state": "ambiguous", "attempts": attempts}
    _save_entry(services, generation_id, found)
    return found


def _advance(
    services: Services,
    engine: Engine,
    job: Job,
    generation_id: str,
    index: int,
    entry: dict[str, Any],
) -> None:
    handle = Handle(engine.name, "generation", entry["handle"])
    status = engine.poll(handle)
    if status.state in {"failed", "cancelled"}:
        raise EngineError(status.error or "the provider could not make these headshots")
    if status.state != "succeeded":
        return
    for number, image in enumerate(engine.fetch_generation(handle)):
        save_headshot(
            services,
            job,
            generation_id,
            headshot_id(generation_id, index, number),
            job.looks[index],
            image,
        )
    _save_entry(services, generation_id, {**entry, "state": "done"})
    entry["state"] = "done"


def _weights_url(services: Services, engine: Engine, job: Job) -> str:
    with services.db.transaction() as db:
        model = db.get(Training, job.model_id)
        cached = (model.params or {}).get("provider_weights_url") if model else None
    if cached:
        return str(cached)
    # fal's copy expired or never existed (e.g. a studio-era model): re-upload ours briefly.
    reupload = getattr(engine, "reupload_weights", None)
    if reupload is None:
        raise EngineError("this engine cannot use a stored model")
    return str(reupload(services.blobs.read(job.user_id, job.weights_key)))


def _owned_request_ids(services: Services) -> set[str]:
    """Request ids that other looks and jobs already own (so reconciling cannot claim them)."""
    owned: set[str] = set()
    with services.db.transaction() as db:
        for entries in db.scalars(select(Generation.provider_request_ids)):
            for entry in entries or []:
                for request in entry.get("handle", {}).get("requests", []) or []:
                    owned.add(str(request.get("request_id")))
                owned.add(str(entry.get("handle", {}).get("request_id")))
    return owned - {"None", ""}


def _drop_entry(services: Services, generation_id: str, look: int) -> None:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id, with_for_update=True)
        if row is not None:
            row.provider_request_ids = [
                e for e in (row.provider_request_ids or []) if e.get("look") != look
            ]


def _entries(services: Services, generation_id: str) -> dict[int, dict[str, Any]]:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id)
        saved = list(row.provider_request_ids or []) if row else []
    return {int(e["look"]): dict(e) for e in saved}


def _save_entry(services: Services, generation_id: str, entry: dict[str, Any]) -> None:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id, with_for_update=True)
        if row is None or row.status in TERMINAL:
            return
        others = [e for e in (row.provider_request_ids or []) if e.get("look") != entry["look"]]
        row.provider_request_ids = [*others, entry]
