"""The consent gate: no processing of a person's photos without their active consent.

Checked when work is asked for (uploads, trainings, generations) and again by the job code
before each step, so a task already queued does nothing once consent is withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from headshot.domain.consent import BIOMETRIC_PURPOSE
from headshot.domain.errors import PermissionDeniedError
from headshot.domain.jobs import ACTIVE, Status, move
from headshot.services.audit import AuditLog
from headshot.storage.records import Consent, Generation, Training

WITHDRAWN_STAGE = "cancelled: consent withdrawn"


def has_consent(db: Session, user_id: str) -> bool:
    query = select(Consent.id).where(
        Consent.user_id == user_id,
        Consent.purpose == BIOMETRIC_PURPOSE,
        Consent.withdrawn_at.is_(None),
    )
    return db.scalars(query).first() is not None


def require_consent(db: Session, user_id: str) -> None:
    if not has_consent(db, user_id):
        raise PermissionDeniedError(
            "Please agree to the processing of your face photos first.",
            code="consent_required",
        )


def cancel_active_jobs(
    db: Session, user_id: str, *, clock: Callable[[], datetime], audit: AuditLog
) -> tuple[list[str], list[str]]:
    """Cancel every queued or running training and generation of the person; returns their
    ids, so the caller can wake the job code that cancels them at the provider."""
    trainings = list(
        db.scalars(select(Training).where(Training.user_id == user_id, Training.status.in_(ACTIVE)))
    )
    generations = list(
        db.scalars(
            select(Generation).where(Generation.user_id == user_id, Generation.status.in_(ACTIVE))
        )
    )
    jobs: list[Training | Generation] = [*trainings, *generations]
    for job in jobs:
        stop_job(db, job, clock=clock, audit=audit)
    return [t.id for t in trainings], [g.id for g in generations]


def stop_job(
    db: Session, row: Training | Generation, *, clock: Callable[[], datetime], audit: AuditLog
) -> None:
    move(row, Status.CANCELLED)
    row.finished_at = clock()
    if isinstance(row, Training):
        row.stage = WITHDRAWN_STAGE
    kind = "training" if isinstance(row, Training) else "generation"
    audit.record(
        db,
        subject=row.user_id,
        actor="system",
        action="job.cancel.consent_withdrawn",
        resource=(kind, row.id),
    )


def halt_without_consent(
    db: Session, row: Training | Generation, *, clock: Callable[[], datetime], audit: AuditLog
) -> None:
    """Job code calls this before each step: an active job of a person without consent is
    cancelled, and the step then takes the job's ordinary cancel path."""
    if row.status in ACTIVE and not has_consent(db, row.user_id):
        stop_job(db, row, clock=clock, audit=audit)
