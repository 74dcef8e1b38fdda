"""Headshot suitability measured on the face mesh and the pixels under it: something in front of
the mouth, eyes towards the camera, heavy skin smoothing. Pure measures; the checks that judge
them are in `suitability_checks.py`, the thresholds in `thresholds.py`.

Skin is modelled from patches on both cheeks and the forehead, so skin tone, white balance and
exposure of the photo itself set the reference; a greyscale photo has no colour to compare and
is judged on brightness alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Mesh indices around the outer lips, in order (mediapipe's FACEMESH_LIPS).
OUTER_LIPS: tuple[int, ...] = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270)
OUTER_LIPS += (269, 267, 0, 37, 39, 40, 185)
_SKIN_SPOTS = (50, 280, 151)  # right cheek, left cheek, forehead
_EYE_SPOTS = (159, 386)  # upper lids: the sharpest detail of any face
_RIGHT_EYE = (33, 133, 468)  # outer corner, inner corner, iris centre (person's right, image left)
_LEFT_EYE = (263, 362, 473)
_NOSE_BASE, _CHIN = 2, 152
# Degrees of gaze per unit of iris shift (share of the eye's width): an eyeball of ~12 mm radius
# under an eye opening of ~30 mm turns asin(0.1 * 30 / 12) ~ 14.5 degrees for a 0.1 shift.
_GAZE_PER_SHIFT = 145.0
_CHROMA_TOLERANCE = 14.0  # Cr/Cb units from the skin's mean that still read as skin
_DARK_SHARE = 0.45  # of the skin's luma: darker reads as an object (or a deep shadow)
_GREY_CHROMA = 4.0  # skin chroma this close to neutral: a greyscale photo
_CLIPPED_LUMA = 235.0  # at or above: a highlight whose colour is gone


@dataclass(frozen=True)
class Suitability:
    occlusion: float  # share of the mouth area (lips excluded) that is not skin
    mouth_detail: float  # edge strength across the lips over the skin's brightness (0 = no lips)
    gaze: float  # horizontal gaze relative to the camera, degrees (0 = at the camera)
    skin_texture: float  # fine detail on the cheeks over that on the eyelids (low = smoothed)


def measure(rgb: NDArray[np.uint8], points: NDArray[np.float64], yaw: float) -> Suitability:
    """All measures for the face whose mesh is `points` (analysis pixels) in `rgb`."""
    import cv2

    # Everything is measured on the face's own box: a fraction of the frame.
    height, width = rgb.shape[:2]
    low = np.maximum(np.floor(points[:, :2].min(axis=0)).astype(int) - 2, 0)
    high = np.minimum(np.ceil(points[:, :2].max(axis=0)).astype(int) + 3, (width, height))
    face = np.ascontiguousarray(rgb[low[1] : high[1], low[0] : high[0]])
    if face.shape[0] < 8 or face.shape[1] < 8:
        face, low = rgb, np.zeros(2, dtype=int)
    ycrcb = np.asarray(cv2.cvtColor(face, cv2.COLOR_RGB2YCrCb), dtype=np.float32)
    p = points[:, :2] - low
    eye_distance = float(np.linalg.norm(p[468] - p[473])) or 1.0
    skin = _patches(ycrcb, p, _SKIN_SPOTS, half=0.12 * eye_distance)
    grey = bool(np.abs(skin[:, 1:].mean(axis=0) - 128.0).sum() < _GREY_CHROMA)
    lips = _polygon_mask(face.shape[:2], p[list(OUTER_LIPS)])
    mouth = _mouth_area(face.shape[:2], p) & ~lips
    return Suitability(
        occlusion=_foreign_share(ycrcb[mouth], skin, grey=grey),
        mouth_detail=_mouth_detail(ycrcb[:, :, 0], lips, float(np.median(skin[:, 0]))),
        gaze=gaze(p, yaw),
        skin_texture=_skin_texture(ycrcb[:, :, 0], p, eye_distance),
    )


def gaze(points: NDArray[np.float64], yaw: float) -> float:
    """The head's yaw plus the eyes' turn in the head, from where each iris sits between its
    eye's corners (both eyes averaged, so a squint or a lazy eye cancels out)."""
    right = _iris_shift(points, *_RIGHT_EYE)
    left = _iris_shift(points, *_LEFT_EYE)
    # Seen in the image, the right eye runs outer -> inner to the right and the left eye the other
    # way, so a look to the image's right raises the first share and lowers the second.
    return yaw + _GAZE_PER_SHIFT * (right - left) / 2


def _iris_shift(points: NDArray[np.float64], outer: int, inner: int, iris: int) -> float:
    axis = points[inner] - points[outer]
    length = float(axis @ axis) or 1.0
    return float((points[iris] - points[outer]) @ axis) / length


def _patches(
    image: NDArray[np.float32], points: NDArray[np.float64], spots: tuple[int, ...], *, half: float
) -> NDArray[np.float32]:
    height, width = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    size = max(1, round(half))
    pieces = []
    for spot in spots:
        x, y = (round(v) for v in points[spot])
        box = image[
            max(0, y - size) : min(height, y + size), max(0, x - size) : min(width, x + size)
        ]
        pieces.append(box.reshape(-1, channels))
    joined = np.concatenate(pieces)
    return joined if len(joined) else np.full((1, channels), 128.0, np.float32)


def _polygon_mask(shape: tuple[int, ...], corners: NDArray[np.float64]) -> NDArray[np.bool_]:
    import cv2

    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], (1,))
    return mask.astype(bool)


def _mouth_area(shape: tuple[int, ...], p: NDArray[np.float64]) -> NDArray[np.bool_]:
    """From under the nose to just above the chin, a little wider than the mouth: where a
    microphone, a hand or a phone covers the face."""
    across = p[291] - p[61]
    width = float(np.linalg.norm(across)) or 1.0
    unit = across / width
    down = np.array([-unit[1], unit[0]])
    centre = (p[13] + p[14]) / 2
    top = float((p[_NOSE_BASE] - centre) @ down)
    bottom = 0.8 * float((p[_CHIN] - centre) @ down)
    half = 0.6 * width
    corners = [centre + a * unit + b * down for a, b in ((-half, top), (half, top))]
    corners += [centre + a * unit + b * down for a, b in ((half, bottom), (-half, bottom))]
    return _polygon_mask(shape, np.array(corners))


def _foreign_share(pixels: NDArray[np.float32], skin: NDArray[np.float32], *, grey: bool) -> float:
    if len(pixels) == 0:
        return 0.0
    skin_luma = float(np.median(skin[:, 0]))
    foreign = pixels[:, 0] < _DARK_SHARE * skin_luma
    if not grey:
        # Blown-out highlights have lost their colour: they tell nothing, on skin or off it.
        lit = skin[skin[:, 0] < _CLIPPED_LUMA]
        reference = np.median((lit if len(lit) else skin)[:, 1:], axis=0)
        chroma = np.linalg.norm(pixels[:, 1:] - reference, axis=1)
        foreign |= (chroma > _CHROMA_TOLERANCE) & (pixels[:, 0] < _CLIPPED_LUMA)
    return float(foreign.mean())


def _mouth_detail(luma: NDArray[np.float32], lips: NDArray[np.bool_], skin_luma: float) -> float:
    """Lips have edges across them (their outline and the dark line where they meet), also when
    closed; a hand or anything skin-coloured held over the mouth has none."""
    import cv2

    if not lips.any():
        return 0.0
    ys, xs = np.nonzero(lips)
    pad = max(2, (ys.max() - ys.min()) // 2)
    box = luma[max(0, ys.min() - pad) : ys.max() + pad, xs.min() : xs.max() + 1]
    if box.shape[0] < 3 or box.shape[1] < 3:
        return 0.0
    # Smoothed first, so sensor noise and JPEG blocks do not read as lips.
    edges = np.abs(cv2.Sobel(cv2.GaussianBlur(box, (0, 0), 1.0), cv2.CV_32F, 0, 1))
    return float(np.percentile(edges, 90)) / max(skin_luma, 1.0)


def _skin_texture(luma: NDArray[np.float32], p: NDArray[np.float64], eye_distance: float) -> float:
    """Beauty modes and heavy filters flatten the skin but keep the eyes crisp; blur flattens
    both. So: fine detail on the cheeks relative to that on the eyelids."""
    import cv2

    detail = np.abs(luma - cv2.GaussianBlur(luma, (0, 0), 1.0))
    half = 0.12 * eye_distance
    cheeks = _patches(detail, p, _SKIN_SPOTS[:2], half=half)
    eyes = _patches(detail, p, _EYE_SPOTS, half=half)
    return float(cheeks.mean() / max(float(eyes.mean()), 1e-3))
