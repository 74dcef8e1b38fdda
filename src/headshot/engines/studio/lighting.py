"""Lighting presets: the person is relit through a rough 3D shape built from the matte (a
rounded body from its distance transform, an ellipsoid head from the face), so a key light from
one side shades the far cheek and shoulder smoothly, and a rim light finds the silhouette."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headshot.engines.studio.matte import FaceRegion

F32 = NDArray[np.float32]
RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Light:
    key: tuple[float, float, float]  # direction towards the key light: x right, y down, z camera
    key_strength: float
    ambient: float  # fill: what the side away from the key still gets
    key_tint: RGB = (1.0, 1.0, 1.0)
    rim: float = 0.0  # strength of a light from behind, on the side opposite the key
    rim_tint: RGB = (1.0, 1.0, 1.0)
    exposure: float = 1.0  # person, linear gain
    backdrop: float = 1.0  # backdrop, linear gain
    contrast: float = 0.0  # -1..1, S-curve in the final grade
    saturation: float = 1.0
    warmth: float = 0.0  # > 0 warmer, < 0 cooler, final grade
    glow: float = 0.0  # bloom of highlights
    vignette: float = 0.15
    shadow: float = 0.25  # the person's shadow on a studio backdrop


LIGHTS: dict[str, Light] = {
    "soft-studio": Light(
        key=(-0.35, -0.45, 0.82), key_strength=0.45, ambient=0.72, contrast=0.06, warmth=0.01
    ),
    "rembrandt": Light(
        key=(-0.78, -0.5, 0.38), key_strength=1.0, ambient=0.30, key_tint=(1.03, 1.0, 0.96),
        backdrop=0.8, contrast=0.12, warmth=0.02, vignette=0.25, shadow=0.35,
    ),
    "high-key": Light(
        key=(0.0, -0.3, 0.95), key_strength=0.25, ambient=0.95, exposure=1.22, backdrop=1.25,
        contrast=-0.1, saturation=0.95, vignette=0.0, shadow=0.12,
    ),
    "golden-hour": Light(
        key=(0.7, -0.35, 0.45), key_strength=0.75, ambient=0.62, key_tint=(1.16, 1.0, 0.74),
        rim=0.18, rim_tint=(1.0, 0.78, 0.45), exposure=1.05, backdrop=1.05, contrast=0.05,
        saturation=1.06, warmth=0.08, glow=0.18, vignette=0.18, shadow=0.15,
    ),
    "dramatic": Light(
        key=(-0.82, -0.4, 0.4), key_strength=1.0, ambient=0.12, rim=0.22,
        rim_tint=(0.92, 0.97, 1.05), exposure=0.92, backdrop=0.5, contrast=0.2,
        saturation=0.92, vignette=0.45, shadow=0.4,
    ),
}  # fmt: skip


def shading(alpha: F32, *, face_small: FaceRegion, light: Light) -> tuple[F32, F32]:
    """(gain, rim) at the size of `alpha`, a reduced copy (both are smooth), with `face_small`
    in its pixels. `gain` (H x W x 3)
    multiplies the person's linear colours, scaled so the face keeps its exposure times the
    preset's; `rim` (H x W) is how much rim light each pixel gets."""
    face = face_small
    normals = _normals(alpha, face)
    key = np.asarray(light.key, dtype=np.float32)
    key /= float(np.linalg.norm(key))
    lambert = np.clip(normals @ key, 0.0, 1.0)
    tint = np.asarray(light.key_tint, dtype=np.float32)
    gain = light.ambient + light.key_strength * lambert[..., None] * tint
    face_mask = _face_mask(alpha.shape, face)
    reference = float((gain.mean(axis=2) * face_mask).sum() / max(float(face_mask.sum()), 1.0))
    gain *= light.exposure / max(reference, 1e-3)
    return np.asarray(gain, dtype=np.float32), _rim(alpha, normals, light)


def _normals(alpha: F32, face: FaceRegion) -> F32:
    """Unit normals (H x W x 3) of a clay model of the person: body and head."""
    import cv2

    solid = (alpha > 0.5).astype(np.uint8)
    depth = cv2.distanceTransform(solid, cv2.DIST_L2, 5)
    radius = 0.6 * face.width
    d = np.minimum(depth, radius)
    body = np.sqrt(np.maximum(d * (2.0 * radius - d), 0.0))
    height, width = alpha.shape
    xs = (np.arange(width, dtype=np.float32) - face.centre_x) / (0.56 * face.width)
    ys = (np.arange(height, dtype=np.float32) - (face.eye_y + 0.2 * face.width)) / (
        0.78 * face.width
    )
    dome = 1.0 - xs[None, :] ** 2 - ys[:, None] ** 2
    # The head is a dome standing on the body's plateau, so cheeks turn away from the camera.
    head = radius + 0.55 * face.width * np.sqrt(np.maximum(dome, 0.0))
    surface = np.maximum(body, head * (dome > 0))
    surface = cv2.GaussianBlur(surface.astype(np.float32), (0, 0), 0.06 * face.width)
    gy, gx = np.gradient(surface)
    normals = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    return np.asarray(normals, dtype=np.float32)


def _rim(alpha: F32, normals: F32, light: Light) -> F32:
    """Where a light from behind, opposite the key, grazes the silhouette."""
    import cv2

    if light.rim <= 0.0:
        return np.zeros_like(alpha)
    width = alpha.shape[1]
    inner = np.asarray(cv2.GaussianBlur(alpha, (0, 0), 0.015 * width), dtype=np.float32)
    # A soft band inside the outline, on solid pixels only: a rim on the half-transparent fringe
    # would draw a bright line round the cut-out (the crescent along jaw and ear).
    solid = np.clip((alpha - 0.9) * 10.0, 0.0, 1.0)
    edge = np.clip(alpha - inner, 0.0, 1.0) * 2.0 * solid
    side = -np.sign(light.key[0]) * normals[..., 0]
    facing = np.clip(side * 1.4 - normals[..., 1] * 0.4, 0.0, 1.0)  # also from above
    return np.asarray(np.clip(edge * facing, 0.0, 1.0) * light.rim, dtype=np.float32)


def _face_mask(shape: tuple[int, ...], face: FaceRegion) -> F32:
    height, width = shape[:2]
    xs = (np.arange(width, dtype=np.float32) - face.centre_x) / (0.4 * face.width)
    ys = (np.arange(height, dtype=np.float32) - (face.eye_y + 0.25 * face.width)) / (
        0.5 * face.width
    )
    return np.asarray((xs[None, :] ** 2 + ys[:, None] ** 2) < 1.0, dtype=np.float32)
