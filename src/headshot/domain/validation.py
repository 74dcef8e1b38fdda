"""Validation results as plain values: per-photo reports, set reports and the per-photo facts
(`SetMember`) that set checks need. `to_dict()` gives the JSON shapes of the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
Scalar = float | str | None
MetricValue = float | str | bool | None
DiversityValue = float | int | str | list[float] | dict[str, int] | None


@dataclass(frozen=True)
class Finding:
    """One check's verdict: a stable `code`, a plain sentence, a fix tip, the measured value and
    the threshold it was compared with. A set finding names the photos it concerns in
    `photo_ids` (empty when it concerns none in particular, e.g. too few photos)."""

    code: str
    severity: Severity
    message: str
    tip: str
    value: Scalar = None
    threshold: Scalar = None
    photo_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "tip": self.tip,
        }
        if self.value is not None:
            out["value"] = self.value
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.photo_ids:
            out["photo_ids"] = list(self.photo_ids)
        return out


@dataclass(frozen=True)
class PhotoReport:
    """The verdict on one photo; `accepted` is False when any finding is an error."""

    filename: str
    accepted: bool
    face_count: int
    findings: tuple[Finding, ...]
    metrics: Mapping[str, MetricValue]
    width: int
    height: int
    stored_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "filename": self.filename,
            "accepted": self.accepted,
            "face_count": self.face_count,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": dict(self.metrics),
            "width": self.width,
            "height": self.height,
        }
        if self.stored_bytes is not None:
            out["stored_bytes"] = self.stored_bytes
        return out


@dataclass(frozen=True)
class SetReport:
    """The verdict on a whole set. `ready` means enough photos remain after the set checks removed
    duplicates and photos of someone else (their ids are in `rejected_ids`, with the reasons per
    photo in `member_findings`). Diversity findings are warnings: they do not block training."""

    ready: bool
    accepted_count: int
    required_count: int
    findings: tuple[Finding, ...]
    diversity: Mapping[str, DiversityValue]
    rejected_ids: tuple[str, ...] = ()
    member_findings: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "accepted_count": self.accepted_count,
            "required_count": self.required_count,
            # Set findings always carry `photo_ids`, empty or not (API.md's SetReport).
            "findings": [{**f.to_dict(), "photo_ids": list(f.photo_ids)} for f in self.findings],
            "diversity": dict(self.diversity),
        }


@dataclass(frozen=True)
class SetMember:
    """What the set checks need to know about one accepted photo; persisted as JSON per photo.

    Angles are in degrees (see `headshot.imaging.landmarks` for the sign conventions); `smile` is
    the mouth-corner lift and `mouth_width` the mouth width, both over the eye distance;
    `embedding` is the unit-length SFace vector; `phash` is a 64-bit perceptual hash in hex.
    """

    photo_id: str
    filename: str
    yaw: float
    pitch: float
    roll: float
    smile: float
    mouth_width: float
    mouth_open: float
    eye_openness: float
    quality: float
    embedding: tuple[float, ...]
    phash: str
    # Headshot suitability (0 = not measured: photos analysed before these existed).
    gaze: float = 0.0
    occlusion: float = 0.0
    sharpness: float = 0.0
    face_luma: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "photo_id": self.photo_id,
            "filename": self.filename,
            "yaw": self.yaw,
            "pitch": self.pitch,
            "roll": self.roll,
            "smile": self.smile,
            "mouth_width": self.mouth_width,
            "mouth_open": self.mouth_open,
            "eye_openness": self.eye_openness,
            "quality": self.quality,
            "embedding": list(self.embedding),
            "phash": self.phash,
            "gaze": self.gaze,
            "occlusion": self.occlusion,
            "sharpness": self.sharpness,
            "face_luma": self.face_luma,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SetMember:
        return cls(
            photo_id=str(data["photo_id"]),
            filename=str(data["filename"]),
            yaw=float(data["yaw"]),
            pitch=float(data["pitch"]),
            roll=float(data["roll"]),
            smile=float(data["smile"]),
            mouth_width=float(data["mouth_width"]),
            mouth_open=float(data["mouth_open"]),
            eye_openness=float(data["eye_openness"]),
            quality=float(data["quality"]),
            embedding=tuple(float(v) for v in data["embedding"]),
            phash=str(data["phash"]),
            gaze=float(data.get("gaze", 0.0)),
            occlusion=float(data.get("occlusion", 0.0)),
            sharpness=float(data.get("sharpness", 0.0)),
            face_luma=float(data.get("face_luma", 0.0)),
        )

    def with_id(self, photo_id: str) -> SetMember:
        """The same facts under another id (the API assigns ids after analysis)."""
        return SetMember(**{**self.__dict__, "photo_id": photo_id})
