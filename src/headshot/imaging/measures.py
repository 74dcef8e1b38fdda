"""Pixel measures on one photo: sharpness, exposure, eye visibility, perceptual hash."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Sharpness is measured with the face scaled to this iris-to-iris distance (px): the smallest
# face the checks accept (80 px wide) has about 32 px, so few faces are enlarged.
SHARPNESS_EYE_DISTANCE = 40.0
_BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
_NOSE_BRIDGE = 195


@dataclass(frozen=True)
class Exposure:
    face_mean: float  # mean luma of the face, 0..255
    face_median: float
    face_clipped_high: float  # share of face pixels at >= 250
    face_clipped_low: float  # share of face pixels at <= 8
    frame_mean: float
    background_minus_face: float  # > 0: the surroundings are brighter than the face (backlight)


def luma(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    import cv2

    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def inner_face_box(points: NDArray[np.float64], width: int, height: int) -> tuple[int, ...]:
    """The box from eyebrows to chin and cheek to cheek, clipped to the image: skin, not hair."""
    xs, ys = points[:468, 0], points[:468, 1]
    x0, x1 = np.percentile(xs, 10), np.percentile(xs, 90)
    y0, y1 = np.percentile(ys, 10), np.percentile(ys, 95)
    box = (int(max(0, x0)), int(max(0, y0)), int(min(width, x1)), int(min(height, y1)))
    return box if box[2] - box[0] >= 4 and box[3] - box[1] >= 4 else (0, 0, width, height)


def sharpness(face_gray: NDArray[np.uint8], eye_distance: float) -> float:
    """Focus of the face, independent of the photo's and the face's pixel size, of exposure, of
    sensor noise and of JPEG blocking; only blur (focus or motion) lowers it.

    The face is resampled so that the irises are `SHARPNESS_EYE_DISTANCE` px apart (every usable
    face has at least that much detail), contrast-stretched, median-filtered (noise and 8x8 JPEG
    block edges are single-pixel detail a 3x3 median removes, real edges survive) and scored by the
    variance of its second derivative along the weaker axis, so that blur in one direction (motion)
    counts as blur. Calibration: docs/validation.md."""
    import cv2

    factor = SHARPNESS_EYE_DISTANCE / max(eye_distance, 1.0)
    height, width = face_gray.shape
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    # Pixel-area averaging when shrinking; a face with fewer pixels is enlarged smoothly.
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    face = cv2.resize(face_gray.astype(np.float32), size, interpolation=method)
    low, high = np.percentile(face, (1, 99))
    stretched = np.clip((face - low) * (255.0 / max(float(high - low), 1.0)), 0, 255)
    smooth = cv2.medianBlur(stretched.astype(np.uint8), 3).astype(np.float64)
    across = float(cv2.Sobel(smooth, cv2.CV_64F, 2, 0).var())
    down = float(cv2.Sobel(smooth, cv2.CV_64F, 0, 2).var())
    return min(across, down)


def exposure(gray: NDArray[np.uint8], box: tuple[int, ...]) -> Exposure:
    x0, y0, x1, y1 = box
    face = gray[y0:y1, x0:x1]
    total = float(gray.sum(dtype=np.float64))
    face_sum = float(face.sum(dtype=np.float64))
    rest = gray.size - face.size
    background = (total - face_sum) / rest if rest > 0 else face_sum / max(1, face.size)
    face_mean = face_sum / max(1, face.size)
    return Exposure(
        face_mean=face_mean,
        face_median=float(np.median(face)) if face.size else 0.0,
        face_clipped_high=float(np.count_nonzero(face >= 250)) / max(1, face.size),
        face_clipped_low=float(np.count_nonzero(face <= 8)) / max(1, face.size),
        frame_mean=total / max(1, gray.size),
        background_minus_face=background - face_mean,
    )


def eye_dark_share(
    gray: NDArray[np.uint8], points: NDArray[np.float64], face_median: float
) -> float:
    """Share of near-black pixels in the band from the eyebrows to the nose bridge.

    Open eyes contribute only pupils and lashes (a few percent); a bar, a hand in shadow or
    sunglasses fill the band. Relative to the face's own median, so dark photos are not penalised.
    """
    height, width = gray.shape
    gap = abs(points[263, 0] - points[33, 0])
    x0 = int(max(0, min(points[33, 0], points[263, 0]) - 0.1 * gap))
    x1 = int(min(width, max(points[33, 0], points[263, 0]) + 0.1 * gap))
    y0 = int(max(0, points[list(_BROWS), 1].min()))
    y1 = int(min(height, points[_NOSE_BRIDGE, 1]))
    band = gray[y0:y1, x0:x1]
    if band.size == 0:
        return 1.0
    return float(np.count_nonzero(band < 0.15 * face_median)) / band.size


def perceptual_hash(gray: NDArray[np.uint8]) -> str:
    """64-bit DCT hash (pHash) as 16 hex digits; near-identical images differ in few bits."""
    import cv2

    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hash_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
