"""Append-only audit log of access to personal data. Entries never hold the data itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

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
