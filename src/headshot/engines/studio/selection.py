"""Choosing the photos a studio portrait is made from: every training image is analysed with the
validation pipeline's face analysis, ranked by headshot suitability (`imaging.ranking`) and face
size, and the best are kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headshot.domain.errors import HeadshotError
from headshot.engines.protocol import TrainingImage
from headshot.imaging.analysis import FaceAnalysis, analyze_image
from headshot.imaging.decode import decode
from headshot.imaging.identity import cosine
from headshot.imaging.models import FaceModels
from headshot.imaging.ranking import HeadshotTraits, headshot_suitability
from headshot.imaging.thresholds import ValidationThresholds

_ANALYSIS_LONG_SIDE = 1024
_DECODE_LONG_SIDE = 2048  # training images are ~1024 px; this only bounds an unexpected large one
_MAX_PIXELS = 60_000_000
_MAX_SIDE = 20_000
_OTHER_FACE_RATIO = 0.35
# Limits of a usable portrait source: beyond these the face reads as turned away or soft.
MAX_YAW = 30.0
MAX_PITCH = 25.0
MIN_EYE_OPENNESS = 0.12
MIN_FACE_PX = 64.0
_SAME_PERSON_COSINE = 0.36  # SFace similarity from which two faces are the same person
# Measured on testdata/faces: copies of one photo (re-saved, re-cropped, rotated) score 0.96-0.99
# and differ by under 3 degrees; different photos of the same person score below 0.8.
_SAME_SHOT_COSINE = 0.95
_SAME_SHOT_DEGREES = 3.0


@dataclass(frozen=True)
class Candidate:
    """One usable training photo: pixels, its face mesh (in those pixels) and its scores."""

    name: str
    rgb: NDArray[np.uint8]
    points: NDArray[np.float64]  # (478, 2) mesh x, y in `rgb` pixels
    yaw: float
    pitch: float
    roll: float
    sharpness: float
    face_luma: float
    score: float
    embedding: tuple[float, ...]


def analyse(image: TrainingImage, models: FaceModels) -> Candidate | None:
    """The photo as a candidate, or None when it has no usable face (or is not a photo)."""
    try:
        decoded = decode(
            image.jpeg,
            max_pixels=_MAX_PIXELS,
            max_side=_MAX_SIDE,
            target_long_side=_DECODE_LONG_SIDE,
        )
    except HeadshotError:
        return None
    photo = analyze_image(
        decoded, models, long_side=_ANALYSIS_LONG_SIDE, other_face_ratio=_OTHER_FACE_RATIO
    )
    face = photo.face
    if face is None or not _usable(face):
        return None
    to_pixels = decoded.scale / photo.analysis_scale
    return Candidate(
        name=image.name,
        rgb=decoded.pixels,
        points=face.geometry.points[:, :2] * to_pixels,
        yaw=face.geometry.yaw,
        pitch=face.geometry.pitch,
        roll=face.geometry.roll,
        sharpness=face.sharpness,
        face_luma=face.exposure.face_mean,
        score=_score(face),
        embedding=face.embedding,
    )


def choose(candidates: Sequence[Candidate], *, limit: int) -> list[Candidate]:
    """The best `limit` candidates of the set's main person, best first."""
    if not candidates:
        return []
    kept: list[Candidate] = []
    for candidate in sorted(_main_person(candidates), key=lambda c: c.score, reverse=True):
        if not any(_same_shot(candidate, other) for other in kept):
            kept.append(candidate)
    return kept[:limit]


def _same_shot(a: Candidate, b: Candidate) -> bool:
    """Two copies of one photo (re-saved or re-cropped) would only repeat a portrait."""
    close_pose = (
        abs(a.yaw - b.yaw) < _SAME_SHOT_DEGREES and abs(a.pitch - b.pitch) < _SAME_SHOT_DEGREES
    )
    return close_pose and cosine(a.embedding, b.embedding) >= _SAME_SHOT_COSINE


def _usable(face: FaceAnalysis) -> bool:
    g = face.geometry
    return (
        abs(g.yaw) <= MAX_YAW
        and abs(g.pitch) <= MAX_PITCH
        and g.eye_openness >= MIN_EYE_OPENNESS
        and face.face_px >= MIN_FACE_PX
    )


def _score(face: FaceAnalysis) -> float:
    """Higher is better: headshot suitability (frontal, eye contact, mouth closed or smiling,
    nothing in front, sharp, well lit; 0..1) counts most, then a large face (more detail)."""
    g = face.geometry
    traits = HeadshotTraits(
        yaw=g.yaw,
        pitch=g.pitch,
        gaze=face.suitability.gaze,
        mouth_open=g.mouth_open,
        smile=g.smile,
        occlusion=face.suitability.occlusion,
        sharpness=face.sharpness,
        face_luma=face.exposure.face_mean,
    )
    # The validation defaults: the studio judges suitability exactly as the photo checks do.
    suitability = headshot_suitability(traits, ValidationThresholds())
    size = min(face.face_px / 320.0, 1.0)
    return round(2.0 * suitability + 0.6 * size, 4)


def _main_person(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Drop photos of someone else: keep those that look like the set's medoid face."""
    vectors = np.array([c.embedding for c in candidates], dtype=np.float64)
    medoid = int(np.argmax((vectors @ vectors.T).sum(axis=1)))
    anchor = candidates[medoid].embedding
    return [c for c in candidates if cosine(c.embedding, anchor) >= _SAME_PERSON_COSINE]
