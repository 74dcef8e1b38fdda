"""A portrait: one chosen photo framed as a 4:5 head-and-shoulders crop, with the person's matte
and edge colours, ready to be placed on any backdrop. This is what training produces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headshot.engines.studio import framing
from headshot.engines.studio.matte import (
    FaceRegion,
    foreground_colours,
    person_matte,
    subject_prior,
)
from headshot.engines.studio.models import StudioModels
from headshot.engines.studio.selection import Candidate

_PADDING_COST = 3.0  # a frame the photo does not fill shows a faded-out body: use it last


@dataclass(frozen=True)
class Portrait:
    name: str  # the training image it was made from
    foreground: NDArray[np.uint8]  # H x W x 3: the photo; edge colours freed of the old backdrop
    alpha: NDArray[np.float32]  # H x W, 0..1
    face: FaceRegion
    yaw: float
    pitch: float
    roll: float
    score: float  # the candidate's score, less a penalty for other people or clutter nearby
    crop: tuple[float, ...]  # the frame's 2x3 affine from the training image, row by row


def make_portrait(candidate: Candidate, *, models: StudioModels) -> Portrait:
    # The whole photo's mask decides the frame (the segmenter sees at 256 px either way).
    source_mask = models.person_mask(candidate.rgb)
    frame = framing.fitted_frame(candidate.points, person=source_mask, roll=candidate.roll)
    pixels, valid = framing.warp(candidate.rgb, frame)
    coarse = models.person_mask(pixels)
    face = face_region(candidate.points, frame.matrix)
    alpha = person_matte(pixels, coarse=coarse, valid=valid, face=face)
    return Portrait(
        name=candidate.name,
        foreground=foreground_colours(pixels, alpha),
        alpha=alpha,
        face=face,
        yaw=candidate.yaw,
        pitch=candidate.pitch,
        roll=candidate.roll,
        score=round(candidate.score - _penalty(coarse, alpha, valid, face=face), 4),
        crop=tuple(round(float(v), 5) for v in frame.matrix.ravel()),
    )


def face_region(points: NDArray[np.float64], matrix: NDArray[np.float64]) -> FaceRegion:
    mesh = framing.transform(points[:468], matrix)
    eye = framing.transform(framing.eye_centre(points)[None], matrix)[0]
    return FaceRegion(
        centre_x=round(float(mesh[:, 0].max() + mesh[:, 0].min()) / 2, 2),
        eye_y=round(float(eye[1]), 2),
        chin_y=round(float(mesh[152, 1]), 2),
        width=round(float(mesh[:, 0].max() - mesh[:, 0].min()), 2),
    )


def _penalty(
    coarse: NDArray[np.float32],
    alpha: NDArray[np.float32],
    valid: NDArray[np.float32],
    *,
    face: FaceRegion,
) -> float:
    """How much worse than its photo's own score a portrait is: someone beside the person, a
    frame the photo does not fill (the body fades out), or something in front of the chest (a
    podium, a desk) that leaves the body short of the frame's bottom edge."""
    padding = float(1.0 - valid.mean())
    return (
        4.0 * _clutter(coarse, face=face) + _PADDING_COST * padding + 2.0 * _body_gap(alpha, face)
    )


def _body_gap(alpha: NDArray[np.float32], face: FaceRegion) -> float:
    """Share of the bottom rows under the face (a face width either side of it) that is not
    person: a body in a head-and-shoulders frame reaches the bottom edge."""
    height, width = alpha.shape
    left = int(np.clip(face.centre_x - face.width, 0, width - 1))
    right = int(np.clip(face.centre_x + face.width, left + 1, width))
    bottom = alpha[int(height * 0.95) :, left:right]
    return float(1.0 - bottom.mean()) if bottom.size else 0.0


def _clutter(coarse: NDArray[np.float32], *, face: FaceRegion) -> float:
    """How much of what the segmenter calls person lies where this person cannot be (someone
    beside them), relative to the face's area: such a photo is used only when no better one is."""
    outside = coarse * (1.0 - subject_prior(coarse.shape, face=face))
    return float(outside.sum()) / max(face.width**2, 1.0)
