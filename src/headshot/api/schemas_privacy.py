"""Schemas of erasure receipts and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from headshot.domain.privacy import DeletionReceiptView, describe_deleted
from headshot.services.audit import AuditView

RECEIPTS_PATH = "/api/v1/deletion-receipts"


class ProviderDeletionsOut(BaseModel):
    pending: int
    done: int
    last_error: str | None = None


class DeletionReceiptOut(BaseModel):
    """What was deleted and when; fetch `status_url` later, without logging in, until complete."""

    id: str
    scope: Literal["account", "session", "photo", "model", "headshot"]
    status: Literal["pending", "complete"]
    created_at: datetime
    completed_at: datetime | None
    deleted: dict[str, int]
    provider_deletions: ProviderDeletionsOut
    status_url: str
    summary: list[str] = Field(description='The counts in plain words ("1 generation").')

    @classmethod
    def of(cls, view: DeletionReceiptView) -> DeletionReceiptOut:
        errors = [d.last_error for d in view.provider_deletions if d.state == "pending"]
        return cls(
            id=view.id,
            scope=view.scope,
            status=view.status,
            created_at=view.created_at,
            completed_at=view.completed_at,
            deleted=dict(view.deleted),
            provider_deletions=ProviderDeletionsOut(
                pending=view.provider_pending,
                done=view.provider_done,
                last_error=next((e for e in errors if e), None),
            ),
            status_url=f"{RECEIPTS_PATH}/{view.id}",
            summary=describe_deleted(view.deleted),
        )


class AuditEntryOut(BaseModel):
    at: datetime
    subject: str | None
    actor: str
    action: str
    resource_type: str | None
    resource_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, view: AuditView) -> AuditEntryOut:
        return cls(**view.__dict__)


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
