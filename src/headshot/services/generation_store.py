"""What a generation run reads and writes: the job, its looks at the provider, its headshots.

`keep_images` is the one place where the images of a look become headshots: every candidate
of the look is scored (likeness, face and open eyes, mouth and gaze, studio edge quality), the
best `per_look` without near-duplicates are kept (`services.candidates`), and only those are
stored encrypted and recorded; the others are dropped in memory, never written anywhere. Local
and remote engines both hand their candidates to it.
Every status change of a generation made by job code goes through here (and through
`domain.jobs.move`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from headshot.domain.jobs import ACTIVE, TERMINAL, Status, move
from headshot.domain.provider_state import LookSubmission, looks_from_json
from headshot.domain.styles import compose_prompt, find_style
from headshot.engines.protocol import GeneratedImage, Look
from headshot.services.audit import AuditLog
from headshot.services.blobs import UserBlobs
from headshot.services.candidates import best_candidates
from headshot.services.consent_gate import halt_without_consent
from headshot.services.engines import Likeness
from headshot.settings import GenerationSettings
from headshot.storage.db import Database
from headshot.storage.records import Generation, Headshot, Photo, Training

log = logging.getLogger(__name__)
MODEL_GONE = "the model version is gone"


@dataclass(frozen=True)
class GenerationJob:
    """A generation as its run needs it, read once at the start of a step."""

    id: str
    user_id: str
    session_id: str
    model_id: str
    engine: str
    trigger: str
    weights_key: str
    looks: tuple[Look, ...]
    per_look: int
    candidates_per_look: int  # made for each look, culled to `per_look`
    seed: int
    references: tuple[tuple[float, ...], ...]

    def prompt(self, look: Look) -> str:
        background = find_style("background", look.background)
        attire = find_style("attire", look.attire)
        lighting = find_style("lighting", look.lighting)
        assert background and attire and lighting  # validated when the generation was accepted
        return compose_prompt(
            trigger_phrase=self.trigger, background=background, attire=attire, lighting=lighting
        )

    def look_seed(self, look_index: int) -> int:
        return self.seed + look_index * 1000


def headshot_id(generation_id: str, look_index: int, image_index: int) -> str:
    """Stable per (generation, look, image): a re-run finds what an earlier run stored."""
    return hashlib.sha256(f"{generation_id}:{look_index}:{image_index}".encode()).hexdigest()[:32]


class GenerationStore:
    def __init__(
        self,
        *,
        db: Database,
        blobs: UserBlobs,
        likeness: Likeness,
        likeness_threshold: float,
        audit: AuditLog,
        clock: Callable[[], datetime],
        overgenerate: GenerationSettings | None = None,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._likeness = likeness
        self._threshold = likeness_threshold
        self._overgenerate = overgenerate or GenerationSettings()
        self._audit = audit
        self._clock = clock

    def begin_step(self, generation_id: str) -> GenerationJob | None:
        """The job, now `running`; None when it has ended (cancelled, consent withdrawn, …)."""
        with self._db.transaction() as db:
            row = db.get(Generation, generation_id, with_for_update=True)
            if row is None:
                return None
            halt_without_consent(db, row, clock=self._clock, audit=self._audit)
            if row.status in TERMINAL:
                return None
            model = db.get(Training, row.model_id)
            if model is None or not model.weights_key:
                move(row, Status.FAILED)
                row.error, row.finished_at = MODEL_GONE, self._clock()
                return None
            if row.seed is None:
                row.seed = int.from_bytes(hashlib.sha256(row.id.encode()).digest()[:3], "big")
            move(row, Status.RUNNING)
            photo_ids = list(model.params.get("photo_ids", []))
            members = db.scalars(select(Photo.member).where(Photo.id.in_(photo_ids))).all()
            return GenerationJob(
                id=row.id,
                user_id=row.user_id,
                session_id=model.session_id,
                model_id=model.id,
                engine=row.engine,
                trigger=model.trigger_phrase,
                weights_key=model.weights_key,
                looks=tuple(Look(**look) for look in row.looks),
                per_look=row.images_per_look,
                candidates_per_look=row.images_per_look * self._overgenerate.factor(row.engine),
                seed=row.seed,
                references=tuple(
                    tuple(m["embedding"]) for m in members if m and m.get("embedding")
                ),
            )

    def weights(self, job: GenerationJob) -> bytes:
        return self._blobs.read(job.user_id, job.weights_key)

    def provider_weights_url(self, job: GenerationJob) -> str | None:
        """The provider's own copy of the model, while it has one."""
        with self._db.transaction() as db:
            model = db.get(Training, job.model_id)
            cached = (model.params or {}).get("provider_weights_url") if model else None
        return str(cached) if cached else None

    def is_stored(self, made_id: str) -> bool:
        with self._db.transaction() as db:
            return db.get(Headshot, made_id) is not None

    def look_is_stored(self, job: GenerationJob, look_index: int) -> bool:
        """Every headshot of the look is stored (a re-run has nothing left to make)."""
        return all(
            self.is_stored(headshot_id(job.id, look_index, rank)) for rank in range(job.per_look)
        )

    def keep_images(
        self, job: GenerationJob, look_index: int, images: Sequence[GeneratedImage]
    ) -> None:
        """Cull the candidates of a look to the best `per_look`, then store encrypted and record
        each kept one as the headshot of its rank (once per headshot id). The same candidates
        cull the same way, so a re-run after a crash completes the look without duplicates."""
        if self.look_is_stored(job, look_index):
            return
        kept = best_candidates(self._likeness, images, job.references, keep=job.per_look)
        for rank, best in enumerate(kept):
            made_id = headshot_id(job.id, look_index, rank)
            if not self.is_stored(made_id):
                self._record(job, look_index, made_id, best.image, best.likeness)

    def _record(
        self,
        job: GenerationJob,
        look_index: int,
        made_id: str,
        image: GeneratedImage,
        likeness: float | None,
    ) -> None:
        look = job.looks[look_index]
        key = f"headshots/{made_id}.jpg"
        self._blobs.put(job.user_id, key, image.image)
        flagged = likeness is None or likeness < self._threshold or image.flagged_nsfw
        with self._db.transaction() as db:
            db.add(
                Headshot(
                    id=made_id,
                    user_id=job.user_id,
                    generation_id=job.id,
                    model_id=job.model_id,
                    session_id=job.session_id,
                    background=look.background,
                    attire=look.attire,
                    lighting=look.lighting,
                    seed=image.seed,
                    likeness=likeness,
                    flagged=flagged,
                    image_key=key,
                    width=image.width,
                    height=image.height,
                    effective_width=image.effective_size[0],
                    effective_height=image.effective_size[1],
                    upscaled=image.upscaled,
                    metrics=dict(image.metrics),
                    created_at=self._clock(),
                )
            )

    # -- the looks of a remote generation -------------------------------------------------

    def looks(self, generation_id: str) -> dict[int, LookSubmission]:
        with self._db.transaction() as db:
            row = db.get(Generation, generation_id)
            return looks_from_json(row.provider_request_ids if row else None)

    def save_look(self, generation_id: str, look: LookSubmission) -> None:
        with self._db.transaction() as db:
            row = db.get(Generation, generation_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return
            entries = row.provider_request_ids or []
            others = [e for e in entries if e.get("look") != look.look]
            row.provider_request_ids = [*others, look.to_json()]

    def record_transfer(self, job: GenerationJob, provider: str, request_ids: list[str]) -> None:
        with self._db.transaction() as db:
            self._audit.record(
                db,
                subject=job.user_id,
                actor="system",
                action="provider.transfer",
                resource=("generation", job.id),
                detail={"provider": provider, "request_ids": request_ids},
            )

    def owned_request_ids(self) -> set[str]:
        """Request ids that looks of any generation already own (reconciling cannot claim them)."""
        owned: set[str] = set()
        with self._db.transaction() as db:
            for entries in db.scalars(select(Generation.provider_request_ids)):
                for look in looks_from_json(entries).values():
                    owned.update(look.request_ids())
        return owned

    # -- progress and the end --------------------------------------------------------------

    def is_cancelled(self, generation_id: str) -> bool:
        with self._db.transaction() as db:
            row = db.get(Generation, generation_id)
            return row is None or row.status == Status.CANCELLED

    def set_progress(self, generation_id: str, progress: float) -> None:
        with self._db.transaction() as db:
            row = db.get(Generation, generation_id)
            if row is not None and row.status not in TERMINAL:
                row.progress = round(progress, 3)

    def finish(
        self, generation_id: str, *, error: str | None = None, keep_made: bool = False
    ) -> None:
        """End the generation: `failed` with `error` (`partial` instead when `keep_made` and
        headshots were made); otherwise `succeeded`, or `partial` when some looks were given up
        but headshots were made (kept and listed), `failed` if none were."""
        with self._db.transaction() as db:
            row = db.get(Generation, generation_id, with_for_update=True)
            if row is None or row.status in TERMINAL:
                return
            given_up = [
                look
                for look in looks_from_json(row.provider_request_ids).values()
                if look.state == "failed"
            ]
            made = db.scalar(
                select(func.count()).select_from(Headshot).where(Headshot.generation_id == row.id)
            )
            if error is None and given_up:
                error = _given_up_message(len(given_up), len(row.looks), given_up[0].reason)
                ended = Status.PARTIAL if made else Status.FAILED
            elif error is not None and keep_made:
                ended = Status.PARTIAL if made else Status.FAILED
            else:
                ended = Status.FAILED if error else Status.SUCCEEDED
            move(row, ended)
            row.error, row.finished_at = error, self._clock()
            if ended == Status.SUCCEEDED:
                row.progress = 1.0
        log.info("generation ended", extra={"generation_id": generation_id, "status": ended})

    def untouched_since(self, cutoff: datetime) -> list[str]:
        """Unfinished jobs whose row has not changed since `cutoff` (their task may be lost)."""
        with self._db.transaction() as db:
            query = select(Generation.id).where(
                Generation.status.in_(ACTIVE), Generation.updated_at < cutoff
            )
            return list(db.scalars(query))

    def touch(self, job_id: str) -> None:
        """Mark the row changed now (a job just enqueued again is not stale)."""
        with self._db.transaction() as db:
            row = db.get(Generation, job_id)
            if row is not None:
                row.updated_at = self._clock()


def _given_up_message(failed: int, total: int, reason: str | None) -> str:
    why = reason or "the provider could not make it"
    if failed == total:
        return why
    looks = "look" if total == 1 else "looks"
    return f"{failed} of {total} {looks} could not be made: {why}"
