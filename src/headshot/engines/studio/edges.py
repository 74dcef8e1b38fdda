"""Edge quality of a finished headshot, measured: along the person's outline every pixel should
be a mix of the person's own nearby colour and the new backdrop's nearby colour. A halo or a
crescent of the old room, a dark fringe or sharpening ringing is a colour that is neither, and
its distance from that two-colour line is what this measures.

Only the output pixels and the matte placed on the canvas are used, so the measure does not
trust the renderer's own idea of the colours (the same code scores any version of it)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
_WORK_WIDTH = 512  # halos are several pixels wide at 1024 px; half size keeps them, drops grain
_BAND = 0.012  # half-width of the measured band around the outline, in shares of the width
_MIN_WEIGHT = 0.02  # a colour model needs this much nearby support to be trusted


def edge_deviation(image: NDArray[np.uint8], alpha: F32) -> float:
    """Mean distance (0..255 levels) of the pixels near the matte's outline from the mix of the
    nearby person and nearby backdrop colours; lower is cleaner. 0.0 when there is no outline."""
    import cv2

    height, width = alpha.shape
    scale = min(1.0, _WORK_WIDTH / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    pixels = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.float32)
    matte = np.asarray(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), np.float32)
    band = max(2.0, _BAND * size[0])
    solid = (matte > 0.5).astype(np.uint8)
    inside = cv2.distanceTransform(solid, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - solid, cv2.DIST_L2, 5)
    near = np.where(solid > 0, inside, outside) <= band
    # Colour models from a ring just beyond the band on each side: local, yet clear of it.
    person = _local_colour(pixels, (inside > band) & (inside <= 3 * band) & (matte > 0.98), band)
    backdrop = _local_colour(
        pixels, (outside > band) & (outside <= 3 * band) & (matte < 0.02), band
    )
    if person is None or backdrop is None:
        return 0.0
    (person_colour, person_weight), (backdrop_colour, backdrop_weight) = person, backdrop
    measured = near & (person_weight > _MIN_WEIGHT) & (backdrop_weight > _MIN_WEIGHT)
    if not measured.any():
        return 0.0
    residual = _distance_to_segment(
        pixels[measured], backdrop_colour[measured], person_colour[measured]
    )
    return round(float(residual.mean()), 3)


def _local_colour(pixels: F32, source: NDArray[np.bool_], band: float) -> tuple[F32, F32] | None:
    """The mean colour of the `source` pixels around each pixel (normalised convolution) and the
    support it rests on; None when there is no source at all. Both are smooth, so the blur runs
    at a quarter of the size."""
    import cv2

    if not source.any():
        return None
    height, width = source.shape
    small = (max(1, width // 4), max(1, height // 4))
    weight = cv2.resize(source.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    weighted = cv2.resize(pixels * source[..., None], small, interpolation=cv2.INTER_AREA)
    sigma = 2.0 * band / 4.0
    support = cv2.GaussianBlur(weight, (0, 0), sigma)
    total = cv2.GaussianBlur(weighted, (0, 0), sigma)
    colour = total / np.maximum(support, 1e-6)[..., None]
    full = (width, height)
    return (
        np.asarray(cv2.resize(colour, full, interpolation=cv2.INTER_LINEAR), np.float32),
        np.asarray(cv2.resize(support, full, interpolation=cv2.INTER_LINEAR), np.float32),
    )


def _distance_to_segment(pixels: F32, start: F32, end: F32) -> F32:
    """Per pixel (N x 3 each), the colour distance to the nearest point between `start` and
    `end`."""
    span = end - start
    reach = (span * span).sum(axis=1)
    t = np.clip(((pixels - start) * span).sum(axis=1) / np.maximum(reach, 1e-6), 0.0, 1.0)
    closest = start + t[:, None] * span
    return np.asarray(np.sqrt(((pixels - closest) ** 2).sum(axis=1)), np.float32)
