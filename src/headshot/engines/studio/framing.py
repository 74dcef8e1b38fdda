"""The portrait frame: a 4:5 head-and-shoulders crop around the face, eyes level and at about 40%
from the top, the face about 40% of the frame's width. One affine warp does crop, scale and the
roll correction; a frame whose padding beyond the photo would cut through the hair, or leave the
body of a photo cut off at the chest short of the bottom edge, is tightened until it fits, up to
a close-up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ASPECT = 1.25  # height over width
MAX_WIDTH = 1024
_MAX_LEVELLING = 12.0  # degrees; a stronger tilt is kept partly, as a deliberate pose
# (eye line from the top, face width over frame width), in order of preference: the classic
# head-and-shoulders first, then tighter crops, each with the eyes lower so the hair stays in.
_FITS = (
    *((eye, 0.42) for eye in (0.40, 0.42, 0.38, 0.36)),
    *((eye, 0.46) for eye in (0.42, 0.40, 0.44)),
    *((eye, 0.50) for eye in (0.44, 0.42, 0.46)),
    *((eye, 0.55) for eye in (0.44, 0.46, 0.42)),
    *((eye, 0.60) for eye in (0.46, 0.48, 0.44)),
)
_HAIR_WEIGHT = 3.0  # a straight cut through hair shows more than a body fading out below
_FADE_ALLOWED = 0.015  # share of the lower half where the body may fade out: a sliver
_PROBE = 64  # width of the low-resolution probe that measures how much of a frame is padding
_RIGHT_EYE = (33, 133)
_LEFT_EYE = (362, 263)


@dataclass(frozen=True)
class Frame:
    """The source-to-portrait affine and the portrait size."""

    matrix: NDArray[np.float64]  # 2x3, source pixels -> portrait pixels
    width: int
    height: int
    eye_line: float  # share of the height
    face_share: float  # face width over frame width


def eye_centre(points: NDArray[np.float64]) -> NDArray[np.float64]:
    eyes = points[list(_RIGHT_EYE + _LEFT_EYE), :2]
    return np.asarray(eyes.mean(axis=0), dtype=np.float64)


def fitted_frame(points: NDArray[np.float64], *, person: NDArray[np.float32], roll: float) -> Frame:
    """The first frame in order of preference whose padding beyond the photo touches no hair
    and leaves the body short of the bottom edge by little (it fades out there), or else the
    one that shows the least of either. `person` is the segmenter's mask of the whole photo:
    padding above a head is plain backdrop and harmless, a straight cut through hair is not."""
    best: tuple[float, Frame] | None = None
    for eye_line, face_share in _FITS:
        frame = _frame(points, eye_line=eye_line, face_share=face_share, roll=roll)
        hair, body = _shortfall(frame, person)
        if hair < 0.002 and body < _FADE_ALLOWED:
            return frame
        cost = _HAIR_WEIGHT * hair + body
        if best is None or cost < best[0] - 1e-6:
            best = (cost, frame)
    assert best is not None
    return best[1]


def _shortfall(frame: Frame, person: NDArray[np.float32]) -> tuple[float, float]:
    """Measured on a small probe of the frame: person pixels beside padding in its upper half
    (a cut through the hair), and the share of its lower half that is padding where the body
    would continue (columns the person fills at the photo's edge)."""
    import cv2

    shrink = _PROBE / frame.width
    size = (_PROBE, max(1, round(frame.height * shrink)))
    matrix = frame.matrix * shrink
    inside = np.ones(person.shape[:2], dtype=np.float32)
    valid = cv2.warpAffine(inside, matrix, size, flags=cv2.INTER_LINEAR) > 0.5
    mask = cv2.warpAffine(
        person, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    is_person = np.asarray(mask, dtype=np.float32) > 0.5
    middle = size[1] // 2
    padding = (~valid).astype(np.uint8)
    beside = cv2.dilate(padding, np.ones((3, 3), np.uint8)) > 0
    hair = float((beside[:middle] & valid[:middle] & is_person[:middle]).mean())
    body = float((~valid[middle:] & is_person[middle:]).mean())
    return hair, body


def warp(rgb: NDArray[np.uint8], frame: Frame) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """The portrait pixels and where they came from inside the photo (1) or from padding (0)."""
    import cv2

    size = (frame.width, frame.height)
    # Replicated edges continue the clothes downwards; the matte decides what is person.
    pixels = cv2.warpAffine(
        rgb, frame.matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    inside = np.ones(rgb.shape[:2], dtype=np.float32)
    valid = cv2.warpAffine(inside, frame.matrix, size, flags=cv2.INTER_LINEAR)
    return np.asarray(pixels, dtype=np.uint8), np.asarray(valid, dtype=np.float32)


def transform(points: NDArray[np.float64], matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """`points` (N x 2) mapped by the 2x3 affine."""
    return np.asarray(points[:, :2] @ matrix[:, :2].T + matrix[:, 2], dtype=np.float64)


def _frame(
    points: NDArray[np.float64], *, eye_line: float, face_share: float, roll: float
) -> Frame:
    import cv2

    centre = eye_centre(points)
    level = float(np.clip(roll, -_MAX_LEVELLING, _MAX_LEVELLING))
    rotation = np.asarray(
        cv2.getRotationMatrix2D((centre[0], centre[1]), -level, 1.0), dtype=np.float64
    )
    upright = transform(points[:468], rotation)
    face_width = float(upright[:, 0].max() - upright[:, 0].min())
    source_width = face_width / face_share
    width = int(min(MAX_WIDTH, round(source_width))) // 2 * 2
    height = round(width * ASPECT)
    scale = width / source_width
    face_mid = (upright[:, 0].max() + upright[:, 0].min()) / 2
    matrix = rotation * scale
    matrix[0, 2] += width / 2 - face_mid * scale
    matrix[1, 2] += eye_line * height - centre[1] * scale
    return Frame(matrix, width, height, eye_line=eye_line, face_share=face_share)
