"""Generations: a batch of looks times images from one model version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select

from headshot.domain.capabilities import refuse_unsupported
from headshot.domain.errors import ConflictError, InvalidInputError
from headshot.domain.jobs import TERMINAL, Status, move
from headshot.domain.models import FailedLook, GenerationView, Look, Principal
from headshot.domain.provider_state import looks_from_json
from headshot.domain.styles import Axis, find_style
from headshot.services.audit import AuditLog
from headshot.services.consent_gate import require_consent
from headshot.services.queue import JobQueue
from headshot.services.quotas import Quotas, charging
from headshot.storage.db import Database
from headshot.storage.records import Generation, Headshot, Training
from headshot.storage.scope import OwnerScope

MAX_LOOKS = 12
MAX_IMAGES_PER_LOOK = 4


class Generations:
    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        audit: AuditLog,
        clock: Callable[[], datetime],
        quotas: Quotas | None = None,
        candidates_per_image: Callable[[str], int] = lambda _engine: 1,
    ) -> None:
        self._db = db
        self._quotas = quotas
        # The provider makes (and bills) this many candidates per image shown.
        self._candidates_per_image = candidates_per_image
        self._queue = queue
        self._audit = audit
        self._clock = clock

    def more_like(self, principal: Principal, headshot_id: str) -> GenerationView:
        """A new generation of the headshot's look on its model version, as many images as its
        generation made, with a fresh seed: new candidates, culled like any generation."""
        with self._db.transaction() as db:
            shot = OwnerScope(db, principal.user_id).get(Headshot, headshot_id)
            source = db.get(Generation, shot.generation_id)
            per_look = source.images_per_look if source is not None else 1
            model_id = shot.model_id
            look = Look(background=shot.background, attire=shot.attire, lighting=shot.lighting)
        return self.start(
            principal, model_id=model_id, looks=[look], images_per_look=per_look, seed=None
        )

    def start(
        self,
        principal: Principal,
        *,
        model_id: str,
        looks: Sequence[Look],
        images_per_look: int,
        seed: int | None,
    ) -> GenerationView:
        _check_request(looks, images_per_look)
        with charging(self._quotas), self._db.transaction() as db:
            model = OwnerScope(db, principal.user_id).get(Training, model_id)
            require_consent(db, principal.user_id)
            refuse_unsupported(model.engine, looks)
            if model.status != Status.SUCCEEDED:
                raise ConflictError(
                    "This model version is not trained yet.", code="model_not_ready"
                )
            if self._quotas is not None:  # in this transaction, so racing servers queue up
                images = len(looks) * images_per_look
                self._quotas.charge(
                    db,
                    user_id=principal.user_id,
                    kind="image",
                    amount=images,
                    engine=model.engine,
                    billed=images * self._candidates_per_image(model.engine),
                )
            row = Generation(
                user_id=principal.user_id,
                model_id=model.id,
                engine=model.engine,
                looks=[look.__dict__ for look in looks],
                images_per_look=images_per_look,
                seed=seed,
                created_at=self._clock(),
                updated_at=self._clock(),
            )
            db.add(row)
            db.flush()
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="generation.start",
                resource=("generation", row.id),
            )
            view = generation_view(row, ())
        self._queue.run_generation(view.id)
        return view

    def get(self, principal: Principal, generation_id: str) -> GenerationView:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Generation, generation_id)
            ids = db.scalars(
                select(Headshot.id)
                .where(Headshot.generation_id == row.id)
                .order_by(Headshot.created_at, Headshot.id)
            )
            return generation_view(row, tuple(ids))

    def cancel(self, principal: Principal, generation_id: str) -> GenerationView:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Generation, generation_id, for_update=True)
            if row.status in TERMINAL:
                raise ConflictError(f"This generation has already {row.status}.", code="job_state")
            move(row, Status.CANCELLED)
            row.finished_at = self._clock()
        return self.get(principal, generation_id)


def _check_request(looks: Sequence[Look], images_per_look: int) -> None:
    if not 1 <= len(looks) <= MAX_LOOKS:
        raise InvalidInputError(f"Choose between 1 and {MAX_LOOKS} looks.", code="invalid_looks")
    if not 1 <= images_per_look <= MAX_IMAGES_PER_LOOK:
        raise InvalidInputError(
            f"Ask for 1 to {MAX_IMAGES_PER_LOOK} images per look.", code="invalid_images_per_look"
        )
    for look in looks:
        choices: tuple[tuple[Axis, str], ...] = (
            ("background", look.background),
            ("attire", look.attire),
            ("lighting", look.lighting),
        )
        for axis, value in choices:
            if find_style(axis, value) is None:
                raise InvalidInputError(
                    f"There is no {axis} style called {value!r}; choose one from the list.",
                    code="unknown_style",
                )


def generation_view(row: Generation, headshot_ids: tuple[str, ...]) -> GenerationView:
    notes: tuple[str, ...] = ()  # looks an engine cannot render are refused, not noted
    return GenerationView(
        id=row.id,
        model_id=row.model_id,
        engine=row.engine,
        status=row.status,
        progress=row.progress,
        looks=tuple(dict(look) for look in row.looks),
        images_per_look=row.images_per_look,
        seed=row.seed,
        headshot_ids=headshot_ids,
        notes=notes,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        failed_looks=failed_looks(row),
    )


def failed_looks(row: Generation) -> tuple[FailedLook, ...]:
    """The looks given up, with the reason each one gives the person."""
    given_up = looks_from_json(row.provider_request_ids)
    return tuple(
        FailedLook(
            background=str(row.looks[index].get("background", "")),
            attire=str(row.looks[index].get("attire", "")),
            lighting=str(row.looks[index].get("lighting", "")),
            reason=look.reason or "The provider could not make this look.",
        )
        for index, look in sorted(given_up.items())
        if look.state == "failed" and index < len(row.looks)
    )
