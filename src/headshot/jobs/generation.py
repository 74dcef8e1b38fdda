"""The generation task: renders every look and image of a generation, scores likeness, stores them.

Idempotent: each headshot has an id derived from (generation, look, image), so a re-run after a
killed worker skips what is already stored and finishes the rest.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import select

from headshot.domain.jobs import TERMINAL
from headshot.domain.styles import compose_prompt, find_style
from headshot.engines.protocol import (
    EngineError,
    GeneratedImage,
    GenerationRequest,
    LocalEngine,
    Look,
)
from headshot.services.consent_gate import halt_without_consent
from headshot.services.container import Services
from headshot.storage.records import Generation, Headshot, Photo, Training

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    user_id: str
    session_id: str
    model_id: str
    engine: str
    trigger: str
    weights_key: str
    looks: tuple[Look, ...]
    per_look: int
    seed: int
    references: tuple[tuple[float, ...], ...]


def run_generation(services: Services, generation_id: str) -> None:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id, with_for_update=True)
        if row is not None:
            halt_without_consent(db, row, clock=services.clock, audit=services.audit)
        engine_name = row.engine if row else ""
    remote = services.engines.remote.get(engine_name)
    if remote is not None:
        from headshot.jobs.remote_generation import step_generation

        step_generation(services, remote, generation_id)
        return
    job = load_generation(services, generation_id)
    if job is None:
        return
    local = services.engines.local.get(job.engine)
    if local is None:
        finish_generation(
            services, generation_id, error=f"the {job.engine} engine is not configured"
        )
        return
    artifact = services.blobs.read(job.user_id, job.weights_key)
    total = len(job.looks) * job.per_look
    done = 0
    for look_index, look in enumerate(job.looks):
        for image_index in range(job.per_look):
            if _cancelled(services, generation_id):
                return
            made_id = headshot_id(generation_id, look_index, image_index)
            seed = job.seed + look_index * 1000 + image_index
            try:
                _render_one(services, job, local, artifact, generation_id, made_id, look, seed)
            except EngineError as exc:
                finish_generation(services, generation_id, error=str(exc))
                return
            done += 1
            set_progress(services, generation_id, done / total)
    finish_generation(services, generation_id, error=None)


def load_generation(services: Services, generation_id: str) -> Job | None:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id, with_for_update=True)
        if row is None or row.status in TERMINAL:
            return None
        model = db.get(Training, row.model_id)
        if model is None or not model.weights_key:
            row.status, row.error = "failed", "the model version is gone"
            return None
        if row.seed is None:
            row.seed = int.from_bytes(hashlib.sha256(row.id.encode()).digest()[:3], "big")
        row.status = "running"
        photo_ids = list(model.params.get("photo_ids", []))
        members = db.scalars(select(Photo.member).where(Photo.id.in_(photo_ids))).all()
        return Job(
            user_id=row.user_id,
            session_id=model.session_id,
            model_id=model.id,
            engine=row.engine,
            trigger=model.trigger_phrase,
            weights_key=model.weights_key,
            looks=tuple(Look(**look) for look in row.looks),
            per_look=row.images_per_look,
            seed=row.seed,
            references=tuple(tuple(m["embedding"]) for m in members if m and m.get("embedding")),
        )


def _render_one(
    services: Services,
    job: Job,
    engine: LocalEngine,
    artifact: bytes,
    generation_id: str,
    made_id: str,
    look: Look,
    seed: int,
) -> None:
    with services.db.transaction() as db:
        if db.get(Headshot, made_id) is not None:
            return  # stored by an earlier run
    request = GenerationRequest(
        job_id=generation_id,
        look=look,
        prompt=prompt_for(job.trigger, look),
        num_images=1,
        seed=seed,
        weights_url=None,
        model_artifact=artifact,
    )
    save_headshot(services, job, generation_id, made_id, look, engine.generate(request)[0])


def save_headshot(
    services: Services,
    job: Job,
    generation_id: str,
    made_id: str,
    look: Look,
    image: GeneratedImage,
) -> None:
    """Score likeness, store the image encrypted and record it (once per headshot id)."""
    with services.db.transaction() as db:
        if db.get(Headshot, made_id) is not None:
            return
    likeness = services.likeness.score(image.image, job.references)
    key = f"headshots/{made_id}.jpg"
    services.blobs.put(job.user_id, key, image.image)
    threshold = services.settings.likeness_threshold
    with services.db.transaction() as db:
        db.add(
            Headshot(
                id=made_id,
                user_id=job.user_id,
                generation_id=generation_id,
                model_id=job.model_id,
                session_id=job.session_id,
                background=look.background,
                attire=look.attire,
                lighting=look.lighting,
                seed=image.seed,
                likeness=likeness,
                flagged=likeness is None or likeness < threshold or image.flagged_nsfw,
                image_key=key,
                width=image.width,
                height=image.height,
                effective_width=image.effective_size[0],
                effective_height=image.effective_size[1],
                upscaled=image.upscaled,
                metrics=dict(image.metrics),
                created_at=services.clock(),
            )
        )


def prompt_for(trigger: str, look: Look) -> str:
    background = find_style("background", look.background)
    attire = find_style("attire", look.attire)
    lighting = find_style("lighting", look.lighting)
    assert background and attire and lighting  # validated when the generation was accepted
    return compose_prompt(
        trigger_phrase=trigger, background=background, attire=attire, lighting=lighting
    )


def headshot_id(generation_id: str, look_index: int, image_index: int) -> str:
    return hashlib.sha256(f"{generation_id}:{look_index}:{image_index}".encode()).hexdigest()[:32]


def _cancelled(services: Services, generation_id: str) -> bool:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id)
        return row is None or row.status == "cancelled"


def set_progress(services: Services, generation_id: str, progress: float) -> None:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id)
        if row is not None and row.status not in TERMINAL:
            row.progress = round(progress, 3)


def finish_generation(services: Services, generation_id: str, *, error: str | None) -> None:
    with services.db.transaction() as db:
        row = db.get(Generation, generation_id)
        if row is None or row.status in TERMINAL:
            return
        row.status = "failed" if error else "succeeded"
        row.error, row.finished_at = error, services.clock()
        if not error:
            row.progress = 1.0
