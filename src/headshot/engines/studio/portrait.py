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
    height, width = candidate.rgb.shape[:2]
    frame = framing.preferred_frame(candidate.points, roll=candidate.roll)
    pixels, valid = framing.warp(candidate.rgb, frame)
    coarse = models.person_mask(pixels)
    if framing.cuts_hair(coarse, valid):
        frame = framing.fitted_frame(
            candidate.points, width=width, height=height, roll=candidate.roll
        )
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
        score=round(candidate.score - 4.0 * _clutter(coarse, face=face), 4),
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


def _clutter(coarse: NDArray[np.float32], *, face: FaceRegion) -> float:
    """How much of what the segmenter calls person lies where this person cannot be (someone
    beside them), relative to the face's area: such a photo is used only when no better one is."""
    outside = coarse * (1.0 - subject_prior(coarse.shape, face=face))
    return float(outside.sum()) / max(face.width**2, 1.0)
