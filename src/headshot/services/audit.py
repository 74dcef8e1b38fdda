"""Append-only audit log of access to personal data. Entries never hold the data itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from headshot.storage.records import AuditEntry


class AuditLog:
    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        self._clock = clock

    def record(
        self,
        db: Session,
        *,
        subject: str | None,
        actor: str,
        action: str,
        resource: tuple[str, str] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        db.add(
            AuditEntry(
                at=self._clock(),
                subject_user_id=subject,
                actor=actor,
                action=action,
                resource_type=resource[0] if resource else None,
                resource_id=resource[1] if resource else None,
                detail=detail or {},
            )
        )


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    subject: str | None
    actor: str
    action: str
    resource_type: str | None
    resource_id: str | None
    detail: dict[str, Any]


def audit_page(
    db: Session, *, subject: str | None, before_id: int | None, limit: int
) -> list[AuditView]:
    """Newest first; `subject` None means every entry (the operator's view)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(AuditEntry.subject_user_id == subject)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditView(
            id=row.id,
            at=row.at,
            subject=row.subject_user_id,
            actor=row.actor,
            action=row.action,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            detail=dict(row.detail),
        )
        for row in db.scalars(query)
    ]
