"""Schemas of the operator's invitation, quota and metrics endpoints, one per direction."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from headshot.services.invitations import InvitationView
from headshot.services.quotas import QuotaView


class InvitationIn(BaseModel):
    email_domain: str | None = Field(
        None, max_length=255, description="Only addresses at this domain may use it."
    )
    expires_in_days: int | None = Field(None, ge=1, le=365, description="Default from settings.")
    note: str = Field("", max_length=200, description="For the operator: who it is for.")


class InvitationOut(BaseModel):
    id: str
    state: Literal["open", "used", "expired", "revoked"]
    email_domain: str | None
    note: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, view: InvitationView) -> InvitationOut:
        return cls(**view.__dict__)


class InvitationIssuedOut(InvitationOut):
    token: str = Field(description="Shown once: the person registers with it.")


class InvitationsOut(BaseModel):
    invitations: list[InvitationOut]


class QuotaIn(BaseModel):
    email: str = Field(max_length=320)
    trainings_per_period: int | None = Field(
        None, ge=0, description="None: the default from settings; 0: no limit."
    )
    images_per_period: int | None = Field(
        None, ge=0, description="None: the default from settings; 0: no limit."
    )


class QuotaOut(BaseModel):
    user_id: str
    email: str
    period_days: int
    trainings_used: int
    trainings_limit: int = Field(description="0: no limit.")
    images_used: int
    images_limit: int = Field(description="0: no limit.")
    overridden: bool

    @classmethod
    def of(cls, view: QuotaView) -> QuotaOut:
        return cls(**view.__dict__)
