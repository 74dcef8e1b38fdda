"""SFace identity embeddings from an aligned 112x112 face crop."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from headshot.imaging.models import FaceModels


def embed(
    rgb: NDArray[np.uint8], points: NDArray[np.float64], models: FaceModels
) -> tuple[float, ...]:
    """The unit-length 128-d embedding of the face whose mesh is `points` (analysis pixels)."""
    # SFace aligns on YuNet's five points: eyes, nose tip, mouth corners (image-left first).
    eye_a = (points[33, :2] + points[133, :2]) / 2
    eye_b = (points[362, :2] + points[263, :2]) / 2
    five = np.concatenate([eye_a, eye_b, points[1, :2], points[61, :2], points[291, :2]])
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    w, h = points[:, 0].max() - x0, points[:, 1].max() - y0
    row = np.array([[x0, y0, w, h, *five, 1.0]], dtype=np.float32)
    model, lock = models.sface()
    with lock:
        # Alignment is a per-channel warp, so align the RGB image and swap the channels of the
        # 112x112 result for SFace (BGR): the same input as aligning a BGR copy of the whole image.
        aligned = np.asarray(model.alignCrop(rgb, row), dtype=np.uint8)
        bgr = np.ascontiguousarray(aligned[:, :, ::-1])
        feature = np.asarray(model.feature(bgr), dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(feature))
    unit = feature / norm if norm > 1e-12 else feature
    return tuple(round(float(v), 6) for v in unit)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / denominator if denominator > 1e-12 else 0.0
