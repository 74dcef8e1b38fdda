"""Request and response schemas, one per direction (the names of the published API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from headshot.domain.models import ApiTokenView, PhotoView, SessionView, UploadRejection, UserView
from headshot.domain.readiness import PhotoStatus

# Validation errors of this type carry a sentence meant for people as it stands.
PLAIN_ERROR = "plain"


def plain_email(value: str) -> str:
    """The address normalised, or a plain-language refusal (not the validator's own words)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PydanticCustomError(
            PLAIN_ERROR, "Please enter a valid email address, like name@example.com."
        ) from exc


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorBody


class RegisterIn(BaseModel):
    email: str = Field(max_length=320, json_schema_extra={"format": "email"})
    password: str = Field(min_length=1, max_length=1024)
    invite: str | None = Field(
        None, max_length=200, description="An invitation token (needed when sign-up is `invite`)."
    )

    @field_validator("email")
    @classmethod
    def _plain_email(cls, value: str) -> str:
        return plain_email(value)


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: str
    email: str
    created_at: datetime
    consent_given: bool
    consent_version: str | None
    is_operator: bool
    email_verified: bool

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        return cls(**view.__dict__)


class LoginOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserOut


class ConsentIn(BaseModel):
    biometric_processing: bool


class ConsentOut(UserOut):
    """The account after a consent change; after a withdrawal, where erasure is offered."""

    message: str | None = None
    erasure_url: str | None = None


class ConsentSectionOut(BaseModel):
    title: str
    text: str


class ConsentTextOut(BaseModel):
    version: str
    text: str
    sections: list[ConsentSectionOut]


class ApiTokenIn(BaseModel):
    name: str = Field(max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read"])
    expires_in_s: int | None = Field(None, gt=0)


class ApiTokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, view: ApiTokenView) -> ApiTokenOut:
        return cls(**{**view.__dict__, "scopes": list(view.scopes)})


class ApiTokenIssuedOut(ApiTokenOut):
    token: str = Field(description="Shown once; store it safely.")


class ApiTokensOut(BaseModel):
    tokens: list[ApiTokenOut]


class SessionIn(BaseModel):
    name: str | None = Field(None, max_length=120)


class SessionPatch(BaseModel):
    name: str = Field(max_length=120)


class SessionOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    photo_count: int
    accepted_count: int
    usable_count: int = Field(description="Photos that count towards readiness (as readiness).")
    required_count: int = Field(description="Usable photos needed before training can start.")

    @classmethod
    def of(cls, view: SessionView) -> SessionOut:
        return cls(**view.__dict__)


class SessionsOut(BaseModel):
    sessions: list[SessionOut]


class FindingOut(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    message: str
    tip: str
    value: float | str | None = None
    threshold: float | str | None = None


class SetFindingOut(FindingOut):
    photo_ids: list[str] = Field(
        default_factory=list,
        description="The photos this finding concerns; empty when it concerns none in particular.",
    )


class PhotoReportOut(BaseModel):
    model_config = ConfigDict(extra="allow")  # the imaging pipeline may report more

    id: str | None
    filename: str
    accepted: bool
    face_count: int
    findings: list[FindingOut]
    metrics: dict[str, Any]
    stored_bytes: int
    width: int
    height: int
    created_at: datetime | None = None
    excluded: bool = Field(False, description="Left out of readiness and training by choice.")
    status: PhotoStatus = Field(
        "refused",
        description="One word that agrees with readiness: usable, needs_attention (a blocking "
        "set finding names it), refused (failed its own checks) or excluded.",
    )

    @classmethod
    def of(cls, view: PhotoView) -> PhotoReportOut:
        report = {k: v for k, v in view.report.items() if k not in {"id", "stored_bytes"}}
        report.setdefault("face_count", 0)
        report.setdefault("findings", [])
        report.setdefault("metrics", {})
        return cls(
            **{
                **report,
                "id": view.id,
                "filename": view.filename,
                "accepted": view.accepted,
                "stored_bytes": view.stored_bytes,
                "width": view.width,
                "height": view.height,
                "created_at": view.created_at,
                "excluded": view.excluded,
                "status": view.status,
            }
        )

    @classmethod
    def rejected(cls, rejection: UploadRejection) -> PhotoReportOut:
        finding = FindingOut(
            code=rejection.code,
            severity="error",
            message=rejection.message,
            tip="Take or choose another photo (JPEG, PNG, WebP or HEIC).",
        )
        return cls(
            id=None,
            filename=rejection.filename,
            accepted=False,
            face_count=0,
            findings=[finding],
            metrics={},
            stored_bytes=0,
            width=0,
            height=0,
        )


class PhotoPatch(BaseModel):
    excluded: bool = Field(description="True leaves the photo out of readiness and training.")


class PhotosOut(BaseModel):
    photos: list[PhotoReportOut]


class SetReportOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    ready: bool
    accepted_count: int
    required_count: int
    findings: list[SetFindingOut]
    diversity: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
