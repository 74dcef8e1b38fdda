"""Schemas of trainings, model versions, generations, the gallery, shares and styles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from headshot.domain.models import GenerationView, HeadshotView, ShareView, TrainingView
from headshot.domain.styles import Style


class TrainingIn(BaseModel):
    engine: str | None = Field(None, description="`fal` or `studio`; the deployment's default.")
    steps: int | None = Field(None, ge=1, le=10000)
    trigger_phrase: str | None = Field(None, max_length=40)
    options: dict[str, Any] = Field(default_factory=dict, description="Engine-specific options.")


class TrainingOut(BaseModel):
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
    logs_tail: list[str]
    error: str | None
    weights_sha256: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, view: TrainingView) -> TrainingOut:
        return cls(**{**view.__dict__, "logs_tail": list(view.logs_tail)})


class ModelsOut(BaseModel):
    models: list[TrainingOut]


class LookIn(BaseModel):
    background: str = Field(max_length=50)
    attire: str = Field(max_length=50)
    lighting: str = Field(max_length=50)


class GenerationIn(BaseModel):
    model_id: str = Field(max_length=64)
    looks: list[LookIn] = Field(min_length=1, max_length=12)
    images_per_look: int = Field(1, ge=1, le=4)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class FailedLookOut(BaseModel):
    background: str
    attire: str
    lighting: str
    reason: str = Field(description="Why this look could not be made, in plain words.")


class GenerationOut(BaseModel):
    id: str
    model_id: str
    engine: str
    status: str = Field(
        description="queued, running, succeeded, partial (some looks made, `failed_looks` says "
        "which were not and why), failed or cancelled."
    )
    progress: float
    looks: list[dict[str, str]]
    images_per_look: int
    seed: int | None
    headshot_ids: list[str]
    notes: list[str]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    failed_looks: list[FailedLookOut] = Field(default_factory=list)

    @classmethod
    def of(cls, view: GenerationView) -> GenerationOut:
        return cls(
            **{
                **view.__dict__,
                "looks": list(view.looks),
                "headshot_ids": list(view.headshot_ids),
                "notes": list(view.notes),
                "failed_looks": [FailedLookOut(**look.__dict__) for look in view.failed_looks],
            }
        )


class HeadshotOut(BaseModel):
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
    effective_width: int = Field(
        description="Width the source photo supports; below `width` when it was up-scaled."
    )
    effective_height: int = Field(
        description="Height the source photo supports; below `height` when it was up-scaled."
    )
    upscaled: bool = Field(description="True when the image is larger than its source supports.")
    created_at: datetime
    image_url: str
    thumb_url: str = Field(description="A rendition of at most 384 pixels, for grids.")

    @classmethod
    def of(cls, view: HeadshotView) -> HeadshotOut:
        image_url = f"/api/v1/headshots/{view.id}/image"
        return cls(**view.__dict__, image_url=image_url, thumb_url=f"{image_url}?size=thumb")


class HeadshotsOut(BaseModel):
    headshots: list[HeadshotOut]
    next_cursor: str | None
    total: int = Field(description="Headshots matching the filters, over all pages.")


class HeadshotPatch(BaseModel):
    favorite: bool


class ShareIn(BaseModel):
    expires_in_s: int = Field(7 * 24 * 3600, ge=60, le=30 * 24 * 3600)


class ActiveShareOut(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime


class ActiveSharesOut(BaseModel):
    shares: list[ActiveShareOut]


class ShareOut(BaseModel):
    id: str
    headshot_id: str
    url: str
    expires_at: datetime

    @classmethod
    def of(cls, view: ShareView) -> ShareOut:
        return cls(**view.__dict__)


class StyleOut(BaseModel):
    id: str
    name: str
    description: str
    prompt: str
    preview_url: str

    @classmethod
    def of(cls, style: Style) -> StyleOut:
        return cls(
            id=style.id,
            name=style.name,
            description=style.description,
            prompt=style.prompt,
            preview_url=f"/api/v1/styles/{style.axis}/{style.id}/preview",
        )


class AxisSupportOut(BaseModel):
    supported: bool
    reason: str | None = Field(None, description="Why the engine cannot render this axis.")


class StylesOut(BaseModel):
    backgrounds: list[StyleOut]
    attire: list[StyleOut]
    lighting: list[StyleOut]
    engine: str = Field(
        description="The engine these `axes` describe (the active one unless asked)."
    )
    axes: dict[str, AxisSupportOut] = Field(
        description="Per axis (background, attire, lighting): whether the engine renders it. "
        "A generation that changes an unsupported axis is refused (422 unsupported_style)."
    )
