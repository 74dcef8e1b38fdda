"""478-point face mesh on a crop around the detected face, and the geometry read from it:
head pose, eye openness (EAR) and mouth/smile measures.

Conventions (image as stored, upright): yaw > 0 when the nose points to the image's right (the
person turned to their own left); pitch > 0 when looking up; roll > 0 when the head is tilted
counter-clockwise as seen in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headshot.imaging.detect import FaceBox
from headshot.imaging.models import FaceModels

_CROP_SCALE = 1.9  # mediapipe's box spans brows to chin; the mesh needs forehead and cheeks too
_MESH_INPUT = 320
RIGHT_EYE = (33, 160, 158, 133, 153, 144)  # the person's right eye (image left)
LEFT_EYE = (362, 385, 387, 263, 373, 380)


@dataclass(frozen=True)
class FaceGeometry:
    points: NDArray[np.float64]  # (478, 3): x, y in analysis pixels; z on the x scale
    yaw: float
    pitch: float
    roll: float
    eye_openness: float  # mean eye aspect ratio of both eyes; ~0.25-0.35 open, < 0.15 closed
    smile: float  # mouth-corner lift over eye distance; > ~0.05 reads as a smile
    mouth_width: float  # mouth width over eye distance
    mouth_open: float  # lip gap over mouth width


def face_mesh(rgb: NDArray[np.uint8], box: FaceBox, models: FaceModels) -> FaceGeometry | None:
    """Landmarks for the face in `box`, or None when the mesh cannot find a face there."""
    import cv2

    side = max(box.w, box.h) * _CROP_SCALE
    x0 = round(box.x + box.w / 2 - side / 2)
    y0 = round(box.y + box.h / 2 - side / 2)
    n = max(1, round(side))
    padded = _padded_crop(rgb, x0, y0, n)
    crop = cv2.resize(padded, (_MESH_INPUT, _MESH_INPUT), interpolation=cv2.INTER_AREA)
    model, lock = models.mesh()
    with lock:
        result = model.process(crop)
    if not result.multi_face_landmarks:
        return None
    marks = result.multi_face_landmarks[0].landmark
    raw = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float64)
    points = raw * n + np.array([x0, y0, 0.0])
    return _geometry(points)


def _padded_crop(rgb: NDArray[np.uint8], x0: int, y0: int, n: int) -> NDArray[np.uint8]:
    import cv2

    height, width = rgb.shape[:2]
    left, top = max(0, -x0), max(0, -y0)
    right, bottom = max(0, x0 + n - width), max(0, y0 + n - height)
    inner = rgb[max(0, y0) : min(height, y0 + n), max(0, x0) : min(width, x0 + n)]
    if left or top or right or bottom:
        # Grey padding lets the mesh see a face that is cut by the frame edge.
        padded = cv2.copyMakeBorder(
            inner, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(128, 128, 128)
        )
        return np.asarray(padded, dtype=np.uint8)
    return np.ascontiguousarray(inner)


def _geometry(points: NDArray[np.float64]) -> FaceGeometry:
    yaw, pitch = _yaw_pitch(points)
    eye_gap = float(np.linalg.norm(points[263, :2] - points[33, :2])) or 1.0
    mouth = float(np.linalg.norm(points[291, :2] - points[61, :2])) or 1.0
    centre_y = (points[13, 1] + points[14, 1]) / 2
    corners_y = (points[61, 1] + points[291, 1]) / 2
    return FaceGeometry(
        points=points,
        yaw=yaw,
        pitch=pitch,
        roll=_roll(points),
        eye_openness=(_ear(points, RIGHT_EYE) + _ear(points, LEFT_EYE)) / 2,
        smile=float(centre_y - corners_y) / eye_gap,
        mouth_width=mouth / eye_gap,
        mouth_open=float(np.linalg.norm(points[14, :2] - points[13, :2])) / mouth,
    )


def _ear(points: NDArray[np.float64], ids: tuple[int, ...]) -> float:
    p = points[list(ids), :2]
    vertical = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    horizontal = np.linalg.norm(p[0] - p[3]) or 1.0
    return float(vertical / (2 * horizontal))


def _roll(points: NDArray[np.float64]) -> float:
    dx, dy = points[263, :2] - points[33, :2]
    return float(-np.degrees(np.arctan2(dy, dx)))


def _yaw_pitch(points: NDArray[np.float64]) -> tuple[float, float]:
    """Yaw and pitch from the mesh's own 3D shape (x right, y down, z away from the camera).

    The face normal is the cross product of the eye axis and the forehead-to-chin axis. Measured
    on testdata/faces, this reads identical photos within ~2 degrees, where cv2.solvePnP with a
    generic 6-point head model scattered by +-8 degrees, so the mesh geometry is used instead.
    """
    across = points[263] - points[33]
    across /= np.linalg.norm(across) or 1.0
    down = points[152] - points[10]
    down -= across * float(down @ across)
    down /= np.linalg.norm(down) or 1.0
    away = np.cross(across, down)  # the direction the back of the head points to
    yaw = float(np.degrees(np.arctan2(-away[0], away[2])))
    pitch = float(np.degrees(np.arctan2(away[1], away[2])))
    return yaw, pitch
