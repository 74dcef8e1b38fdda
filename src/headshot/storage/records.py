"""SQLAlchemy 2 records. Every user-owned table has a `user_id` column, so one scoping helper
(`storage.scope.OwnerScope`) can restrict every lookup to its owner.

Rows never leave `services/`; routes get typed schemas.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """Opaque, unguessable identifier (128 bits)."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both PostgreSQL and SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def _user_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    # "Your model / headshots are ready" by mail; the person may turn it off.
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the retention task warned of erasure for inactivity; cleared by any activity.
    inactivity_warned_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the person proved they read mail at this address (a link we sent them).
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)


class AuthSession(Base):
    """A login: the token behind both the web cookie and the bearer access token (hashed)."""

    __tablename__ = "auth_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AccountToken(Base):
    """A single-use secret mailed to the person (password reset, email verification), hashed."""

    __tablename__ = "account_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    purpose: Mapped[str] = mapped_column(String(50))
    version: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)


class PhotoSession(Base):
    """A batch of selfies of one person, with its model versions and generations."""

    __tablename__ = "photo_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the retention task deleted the source photos (the models and headshots stay).
    photos_purged_at: Mapped[datetime | None] = mapped_column(default=None)


class Photo(Base):
    __tablename__ = "photos"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    session_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("photo_sessions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    accepted: Mapped[bool] = mapped_column(Boolean)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(50))
    stored_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    member: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    original_key: Mapped[str | None] = mapped_column(String(200), default=None)
    training_key: Mapped[str | None] = mapped_column(String(200), default=None)
    thumb_key: Mapped[str | None] = mapped_column(String(200), default=None)
    # Left out of readiness and training by the person's own choice.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Seconds from the upload received to the result recorded (the R1.5 latency), for metrics.
    processing_s: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Training(Base):
    """One training run = one model version (v1, v2, …) of a session."""

    __tablename__ = "trainings"
    __table_args__ = (UniqueConstraint("session_id", "version", name="uq_trainings_version"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    session_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("photo_sessions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(32), default=None)
    engine: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    stage: Mapped[str] = mapped_column(String(80), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    eta_s: Mapped[float | None] = mapped_column(Float, default=None)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dataset_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    trigger_phrase: Mapped[str] = mapped_column(String(100), default="")
    # fal key ids are UUIDs (36 characters); leave room for other providers' formats.
    provider_key_id: Mapped[str | None] = mapped_column(String(64), default=None)
    provider_request_id: Mapped[str | None] = mapped_column(String(100), default=None)
    provider_handle: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    submit_state: Mapped[str] = mapped_column(String(20), default="pending")
    # Our encrypted copy of the selfie zip while fal fetches it by signed URL; gone at the end.
    dataset_key: Mapped[str | None] = mapped_column(String(200), default=None)
    weights_key: Mapped[str | None] = mapped_column(String(200), default=None)
    weights_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    logs_tail: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the job left the queue (set by `_mark_started`), for queue-wait metrics.
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the person was told it finished (claimed before sending: at most one notice).
    notified_at: Mapped[datetime | None] = mapped_column(default=None)


class Generation(Base):
    __tablename__ = "generations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("trainings.id", ondelete="CASCADE"), index=True
    )
    engine: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    looks: Mapped[list[Any]] = mapped_column(default=list)
    images_per_look: Mapped[int] = mapped_column(Integer, default=1)
    seed: Mapped[int | None] = mapped_column(Integer, default=None)
    provider_key_id: Mapped[str | None] = mapped_column(String(64), default=None)
    provider_request_ids: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the person was told it finished (claimed before sending: at most one notice).
    notified_at: Mapped[datetime | None] = mapped_column(default=None)


@event.listens_for(Training.status, "set")
@event.listens_for(Generation.status, "set")
def _mark_started(target: Training | Generation, value: str, old: object, _: object) -> None:
    # Whichever code moves a job out of the queue, the record notes when: queue wait and run
    # time are then read from the records alone.
    leaves_queue = old == "queued" and value not in {"queued", "failed", "cancelled"}
    if leaves_queue and target.started_at is None:
        target.started_at = utcnow()


class Headshot(Base):
    __tablename__ = "headshots"
    __table_args__ = (Index("ix_headshots_user_created", "user_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    generation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("generations.id", ondelete="CASCADE"), index=True
    )
    model_id: Mapped[str] = mapped_column(String(32), index=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    background: Mapped[str] = mapped_column(String(50))
    attire: Mapped[str] = mapped_column(String(50))
    lighting: Mapped[str] = mapped_column(String(50))
    seed: Mapped[int | None] = mapped_column(Integer, default=None)
    likeness: Mapped[float | None] = mapped_column(Float, default=None)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    image_key: Mapped[str] = mapped_column(String(200))
    # A small rendition for gallery grids, made on first request (older headshots have none).
    thumb_key: Mapped[str | None] = mapped_column(String(200), default=None)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # The resolution the source supports (None: the pixel size); smaller when it was enlarged.
    effective_width: Mapped[int | None] = mapped_column(Integer, default=None)
    effective_height: Mapped[int | None] = mapped_column(Integer, default=None)
    upscaled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The engine's measurements (e.g. the studio's edge_deviation), for culling and review.
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(Base):
    __tablename__ = "shares"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    headshot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("headshots.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ProviderKey(Base):
    """An operator's fal key, encrypted under the master key (no user owns it)."""

    __tablename__ = "provider_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(20), default="fal")
    label: Mapped[str] = mapped_column(String(100))
    key_hint: Mapped[str] = mapped_column(String(20))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(10), default="API")
    state: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Append-only record of access to personal data."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    resource_type: Mapped[str | None] = mapped_column(String(40), default=None)
    resource_id: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DataKey(Base):
    """A user's data key, wrapped by a master key. Deleting it crypto-shreds the user's blobs."""

    __tablename__ = "data_keys"
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    master_key_id: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitBucket(Base):
    """Fixed-window counters shared by every server process (login rate limiting)."""

    __tablename__ = "rate_limits"
    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_started_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


class DeletionReceipt(Base):
    """What an erasure deleted, kept without any link to the person: the id is the only key,
    unguessable, so the person can check the status later without an account."""

    __tablename__ = "deletion_receipts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProviderDeletion(Base):
    """A provider-side payload deletion owed for a request that carried a person's data,
    retried until the provider confirms it."""

    __tablename__ = "provider_deletions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("deletion_receipts.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20), default="fal")
    request_id: Mapped[str] = mapped_column(String(100))
    # The job's handle when it was still running: it is cancelled before its payloads go.
    cancel_handle: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class Invitation(Base):
    """A single-use, expiring right to register, made by an operator (only its digest is kept).
    No foreign keys: an invitation's history outlives the accounts it names."""

    __tablename__ = "invitations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_domain: Mapped[str | None] = mapped_column(String(255), default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_by: Mapped[str | None] = mapped_column(String(32), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class QuotaOverride(Base):
    """An operator's per-person limits, in place of the settings' defaults (None: default)."""

    __tablename__ = "quota_overrides"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    trainings_per_period: Mapped[int | None] = mapped_column(Integer, default=None)
    images_per_period: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageEntry(Base):
    """Work a person started (a training, or n headshots asked for): what quotas count. Kept
    apart from the jobs so deleting a model version does not give its quota back."""

    __tablename__ = "usage_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = _user_fk()
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(20))
    cost_micro_usd: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DailySpend(Base):
    """Estimated provider spend of one UTC day, in millionths of a dollar. Every paid start
    adds to this row first, which locks it until that start commits: racing servers queue
    up behind each other instead of both passing the cap."""

    __tablename__ = "daily_spend"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    spent_micro_usd: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime | None] = mapped_column(default=None)


class PushSubscription(Base):
    """A browser's Web Push subscription (the endpoint and the keys that encrypt for it)."""

    __tablename__ = "push_subscriptions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobLease(Base):
    """A worker's claim on the job step it is running, renewed by its heartbeat. A lease past
    `expires_at` means its holder died mid-step: another worker enqueues the job again.
    Holds job ids only (no personal data); a row lives as long as one step."""

    __tablename__ = "job_leases"
    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(index=True)
