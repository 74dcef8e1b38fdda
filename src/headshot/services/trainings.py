"""Trainings: each run is a new model version (v1, v2, …) of a session, with lineage."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from headshot.domain.errors import ConflictError, InvalidInputError
from headshot.domain.jobs import TERMINAL, Status, move
from headshot.domain.models import Principal, TrainingView
from headshot.domain.validation import SetMember
from headshot.imaging.ranking import choose_sources, member_traits
from headshot.imaging.thresholds import ValidationThresholds
from headshot.services.audit import AuditLog
from headshot.services.blobs import BlobJanitor
from headshot.services.consent_gate import require_consent
from headshot.services.photos import Photos
from headshot.services.queue import JobQueue
from headshot.services.quotas import Quotas, charging
from headshot.storage.db import Database
from headshot.storage.records import Photo, PhotoSession, Training
from headshot.storage.scope import OwnerScope

DEFAULT_STEPS = 2000
_TRIGGER = re.compile(r"^[A-Za-z0-9 _-]{2,40}$")


class Trainings:
    def __init__(
        self,
        *,
        db: Database,
        photos: Photos,
        queue: JobQueue,
        janitor: BlobJanitor,
        audit: AuditLog,
        engines: frozenset[str],
        default_engine: str,
        validation: ValidationThresholds,
        clock: Callable[[], datetime],
        quotas: Quotas | None = None,
    ) -> None:
        self._db = db
        self._quotas = quotas
        self._photos = photos
        self._queue = queue
        self._janitor = janitor
        self._audit = audit
        self._engines = engines
        self._default_engine = default_engine
        self._validation = validation
        self._clock = clock

    def start(
        self,
        principal: Principal,
        session_id: str,
        *,
        engine: str | None = None,
        steps: int | None = None,
        trigger_phrase: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> TrainingView:
        chosen = self._engine(engine)
        trigger = _trigger(trigger_phrase)
        report = self._photos.readiness(principal, session_id)
        if not report["ready"]:
            raise ConflictError(
                "This session is not ready for training yet: fix the photo set first.",
                code="not_ready",
                details={"findings": report["findings"]},
            )
        excluded = {p["id"] for p in report.get("excluded_photos", [])}
        with charging(self._quotas), self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            session = scope.get(PhotoSession, session_id, for_update=True)
            require_consent(db, principal.user_id)
            if self._quotas is not None:  # in this transaction, so racing servers queue up
                self._quotas.charge(
                    db, user_id=principal.user_id, kind="training", amount=1, engine=chosen
                )
            # Photos the person left out never reach an engine (fal or the studio).
            photos = scope.all(
                Photo,
                Photo.session_id == session.id,
                Photo.accepted.is_(True),
                Photo.excluded.is_(False),
            )
            # Everything not to train on is filtered out here (the set checks' exclusions, and
            # the photos the person set aside); the ranking only chooses among what is left.
            eligible = [p for p in photos if p.id not in excluded and p.member]
            dataset = sorted(self._best_sources(eligible), key=lambda p: p.id)
            version, parent_id = _next_version(db, session.id)
            row = Training(
                user_id=principal.user_id,
                session_id=session.id,
                version=version,
                parent_id=parent_id,
                engine=chosen,
                trigger_phrase=trigger,
                params={
                    "steps": steps or DEFAULT_STEPS,
                    "options": dict(options or {}),
                    "photo_ids": [p.id for p in dataset],
                },
                dataset_fingerprint=_fingerprint(p.sha256 for p in dataset),
                created_at=self._clock(),
                updated_at=self._clock(),
            )
            db.add(row)
            db.flush()
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="training.start",
                resource=("training", row.id),
                detail={"engine": chosen},
            )
            view = training_view(row)
        self._queue.run_training(view.id)
        return view

    @property
    def default_engine(self) -> str:
        """The engine a training uses when none is asked for: the deployment's active one."""
        return self._default_engine

    def _best_sources(self, photos: list[Photo]) -> list[Photo]:
        """The photos both engines train on (the fal zip, the studio's candidates), chosen by
        headshot suitability among those the set checks kept."""
        members = {p.id: SetMember.from_dict(p.member) for p in photos if p.member}
        limits = self._validation
        return choose_sources(
            photos, lambda p: member_traits(members[p.id]), limits, minimum=limits.min_photos
        )

    def get(self, principal: Principal, training_id: str) -> TrainingView:
        with self._db.transaction() as db:
            return training_view(OwnerScope(db, principal.user_id).get(Training, training_id))

    def list(self, principal: Principal, session_id: str) -> list[TrainingView]:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            session = scope.get(PhotoSession, session_id)
            rows = scope.all(Training, Training.session_id == session.id)
            return [training_view(r) for r in sorted(rows, key=lambda r: r.version)]

    def cancel(self, principal: Principal, training_id: str) -> TrainingView:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Training, training_id, for_update=True)
            if row.status in TERMINAL:
                raise ConflictError(f"This training has already {row.status}.", code="job_state")
            move(row, Status.CANCELLED)
            row.stage, row.finished_at = Status.CANCELLED.value, self._clock()
            view = training_view(row)
        # A provider-side job is cancelled by the worker, which sees the status on its next look.
        self._queue.run_training(view.id)
        return view

    def _engine(self, engine: str | None) -> str:
        chosen = engine or self._default_engine
        if chosen not in self._engines:
            available = ", ".join(sorted(self._engines))
            raise InvalidInputError(
                f"The {chosen!r} engine is not available here (available: {available}).",
                code="engine_unavailable",
            )
        return chosen


def _next_version(db: Session, session_id: str) -> tuple[int, str | None]:
    """The next version number of the session, and the latest trained version (its parent)."""
    latest = db.scalars(
        select(Training)
        .where(Training.session_id == session_id, Training.status == Status.SUCCEEDED.value)
        .order_by(Training.version.desc())
    ).first()
    highest = db.scalar(select(func.max(Training.version)).where(Training.session_id == session_id))
    return (highest or 0) + 1, latest.id if latest else None


def _trigger(phrase: str | None) -> str:
    value = (phrase or "hsperson").strip()
    if not _TRIGGER.match(value):
        raise InvalidInputError(
            "The trigger phrase must be 2 to 40 letters, digits, spaces, - or _.",
            code="invalid_trigger_phrase",
        )
    return value


def _fingerprint(digests: Any) -> str:
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def training_view(row: Training) -> TrainingView:
    return TrainingView(
        id=row.id,
        session_id=row.session_id,
        version=row.version,
        engine=row.engine,
        status=row.status,
        stage=row.stage,
        progress=row.progress,
        eta_s=row.eta_s,
        trigger_phrase=row.trigger_phrase,
        params=row.params,
        dataset_fingerprint=row.dataset_fingerprint,
        parent_id=row.parent_id,
        logs_tail=tuple(row.logs_tail or ()),
        error=row.error,
        weights_sha256=row.weights_sha256,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )
