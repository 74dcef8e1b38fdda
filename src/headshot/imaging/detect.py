"""Face detection: mediapipe short- and full-range merged; YuNet as a second opinion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headshot.imaging.models import FaceModels

_YUNET_LONG_SIDE = 640
_SAME_FACE_IOU = 0.3


@dataclass(frozen=True)
class FaceBox:
    """A detected face in analysis-image pixels; the box may extend beyond the image."""

    x: float
    y: float
    w: float
    h: float
    score: float
    source: str  # "short", "full" or "yunet"

    @property
    def area(self) -> float:
        return self.w * self.h

    def iou(self, other: FaceBox) -> float:
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


def detect_faces(rgb: NDArray[np.uint8], models: FaceModels) -> list[FaceBox]:
    """All faces, largest first. YuNet runs only when mediapipe finds none: mediapipe misses faces
    smaller than ~5% of the frame, which still need to be reported (as too small)."""
    height, width = rgb.shape[:2]
    found: list[FaceBox] = []
    for source, (model, lock) in (("short", models.short_range()), ("full", models.full_range())):
        with lock:
            result = model.process(rgb)
        for det in result.detections or ():
            box = det.location_data.relative_bounding_box
            found.append(
                FaceBox(
                    x=box.xmin * width,
                    y=box.ymin * height,
                    w=box.width * width,
                    h=box.height * height,
                    score=float(det.score[0]),
                    source=source,
                )
            )
    if not found:
        found = _yunet_faces(rgb, models)
    return _merge(found)


def _merge(boxes: list[FaceBox]) -> list[FaceBox]:
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(box.iou(other) < _SAME_FACE_IOU for other in kept):
            kept.append(box)
    return sorted(kept, key=lambda b: b.area, reverse=True)


def _yunet_faces(rgb: NDArray[np.uint8], models: FaceModels) -> list[FaceBox]:
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, _YUNET_LONG_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    model, lock = models.yunet()
    with lock:
        model.setInputSize(size)
        _, faces = model.detect(bgr)
    if faces is None:
        return []
    return [
        FaceBox(
            x=float(f[0]) / scale,
            y=float(f[1]) / scale,
            w=float(f[2]) / scale,
            h=float(f[3]) / scale,
            score=float(f[14]),
            source="yunet",
        )
        for f in faces
    ]
