"""Value objects that leave the services layer. Rows never do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from headshot.domain.readiness import PhotoStatus

Scope = Literal["read", "write"]
ALL_SCOPES: tuple[Scope, ...] = ("read", "write")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in session (web or bearer) or a personal API token."""

    user_id: str
    is_operator: bool
    via: Literal["session", "api_token"]
    credential_id: str
    scopes: tuple[Scope, ...] = ALL_SCOPES


@dataclass(frozen=True)
class UserView:
    id: str
    email: str
    created_at: datetime
    consent_given: bool
    consent_version: str | None
    is_operator: bool
    email_verified: bool = False


@dataclass(frozen=True)
class LoginResult:
    access_token: str
    expires_at: datetime
    user: UserView


@dataclass(frozen=True)
class ApiTokenView:
    id: str
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class IssuedApiToken:
    """A freshly made token: the secret is shown once and never stored."""

    token: str
    view: ApiTokenView


@dataclass(frozen=True)
class SessionView:
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    photo_count: int
    accepted_count: int
    usable_count: int = 0
    required_count: int = 0


@dataclass(frozen=True)
class PhotoView:
    id: str
    session_id: str
    filename: str
    accepted: bool
    width: int
    height: int
    stored_bytes: int
    report: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    excluded: bool = False
    status: PhotoStatus = "usable"


@dataclass(frozen=True)
class UploadRejection:
    """A file of an upload that could not be read as an image; nothing of it was stored."""

    filename: str
    code: str
    message: str
    status: int


@dataclass(frozen=True)
class UploadResult:
    photos: tuple[PhotoView, ...]
    rejections: tuple[UploadRejection, ...]


@dataclass(frozen=True)
class Look:
    background: str
    attire: str
    lighting: str


@dataclass(frozen=True)
class TrainingView:
    """A training run, which is also a model version of its session."""

    id: str
    session_id: str
    version: int
    engine: str
    status: str
    stage: str
    progress: float
    eta_s: float | None
    trigger_phrase: str
    params: dict[str, Any]
    dataset_fingerprint: str | None
    parent_id: str | None
    logs_tail: tuple[str, ...]
    error: str | None
    weights_sha256: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class FailedLook:
    """A look of a generation that could not be made, and why."""

    background: str
    attire: str
    lighting: str
    reason: str


@dataclass(frozen=True)
class GenerationView:
    id: str
    model_id: str
    engine: str
    status: str
    progress: float
    looks: tuple[dict[str, str], ...]
    images_per_look: int
    seed: int | None
    headshot_ids: tuple[str, ...]
    notes: tuple[str, ...]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    failed_looks: tuple[FailedLook, ...] = ()


@dataclass(frozen=True)
class HeadshotView:
    id: str
    generation_id: str
    model_id: str
    session_id: str
    background: str
    attire: str
    lighting: str
    seed: int | None
    likeness: float | None
    flagged: bool
    favorite: bool
    width: int
    height: int
    effective_width: int
    effective_height: int
    upscaled: bool
    created_at: datetime


@dataclass(frozen=True)
class ShareView:
    id: str
    headshot_id: str
    url: str
    expires_at: datetime
