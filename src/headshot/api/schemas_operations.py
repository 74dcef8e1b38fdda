"""Schemas of the operator's invitation, quota and metrics endpoints, one per direction."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from headshot.services.invitations import InvitationView
from headshot.services.product_metrics import WINDOW_DAYS, ProductSnapshot
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


class TargetOut(BaseModel):
    name: str
    value: float | None
    threshold: float
    comparison: Literal["<", ">"]
    unit: str
    met: bool | None = Field(description="None while there is no data yet.")


class RetentionOut(BaseModel):
    days: int
    cohort: int
    returned: int
    rate: float | None


class ProductMetricsOut(BaseModel):
    """The seed's success metrics (R7.1) against their targets, and what they rest on."""

    window_days: int
    targets: list[TargetOut]
    trainings: dict[str, int]
    generations: dict[str, int]
    active_jobs: dict[str, dict[str, int]]
    photo_processing_p50_s: float | None
    photo_processing_p95_s: float | None
    retention: list[RetentionOut]
    spend_today_usd: float
    spend_cap_usd: float

    @classmethod
    def of(cls, snapshot: ProductSnapshot) -> ProductMetricsOut:
        return cls(
            window_days=WINDOW_DAYS,
            targets=[TargetOut(**t.__dict__, met=t.met) for t in snapshot.targets()],
            trainings=snapshot.outcomes["training"],
            generations=snapshot.outcomes["generation"],
            active_jobs=dict(snapshot.active),
            photo_processing_p50_s=snapshot.photo_latency.quantile(0.5),
            photo_processing_p95_s=snapshot.photo_latency.quantile(0.95),
            retention=[
                RetentionOut(days=r.days, cohort=r.cohort, returned=r.returned, rate=r.rate)
                for r in snapshot.retention
            ],
            spend_today_usd=snapshot.spend_today_usd,
            spend_cap_usd=snapshot.spend_cap_usd,
        )


class NotificationsIO(BaseModel):
    """The same shape both ways: the person's notice preferences."""

    email: bool = Field(description="Mail when a model or headshots are ready.")


class PushKeysIn(BaseModel):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class PushSubscriptionIn(BaseModel):
    """A browser's `PushSubscription.toJSON()`."""

    endpoint: str = Field(max_length=1000)
    keys: PushKeysIn


class PushSubscriptionOut(BaseModel):
    id: str


class PushKeyOut(BaseModel):
    public_key: str = Field(description="The VAPID `applicationServerKey`, base64url.")
