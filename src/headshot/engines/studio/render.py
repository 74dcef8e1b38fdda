"""One headshot: the portrait placed on the canvas, relit, set on its backdrop with light wrap,
then graded and encoded. Smooth fields (backdrop, shading, glow) are computed at a quarter of the
output size and scaled up; only the person, the matte and the grain are handled at full size."""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from headshot.engines.studio import scenes
from headshot.engines.studio.backdrop import PLAINS, paint_plain
from headshot.engines.studio.lighting import LIGHTS, Light, shading
from headshot.engines.studio.matte import FaceRegion
from headshot.engines.studio.portrait import Portrait

F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]
Painter = Callable[[np.random.Generator], F32]
SCENES = {"office": scenes.office, "outdoor-green": scenes.park, "city": scenes.city}
BACKGROUNDS = frozenset(PLAINS) | frozenset(SCENES)
LIGHTINGS = frozenset(LIGHTS)
JPEG_QUALITY = 92
_SMALL = 4  # smooth fields are computed at 1/_SMALL of the output size
_WRAP = 0.4  # how much backdrop light wraps round the silhouette
_GRAIN = 0.010  # shared film grain, so the person and the backdrop share one texture
_TO_LINEAR = (np.arange(256, dtype=np.float32) / 255.0) ** 2  # gamma 2: cheap, close enough


@dataclass(frozen=True)
class Rendered:
    """A headshot and what it is made of: the pixels, the person's matte on the canvas, and the
    size the source photo supports (smaller than the pixels when the portrait was enlarged)."""

    pixels: U8  # H x W x 3
    alpha: F32  # H x W, 0..1
    effective_width: int
    effective_height: int

    @property
    def upscaled(self) -> bool:
        height, width = self.alpha.shape
        return self.effective_width < width or self.effective_height < height


def render(
    portrait: Portrait,
    *,
    background: str,
    lighting: str,
    width: int,
    height: int,
    seed: int,
    zoom: float = 1.0,
) -> Rendered:
    """The headshot at width x height, cropped `zoom` times closer than the portrait's frame;
    the same inputs always give the same pixels."""
    import cv2

    rng = np.random.default_rng([seed, zlib.crc32(background.encode()), zlib.crc32(b"v1")])
    light = LIGHTS[lighting]
    size = (width, height)
    matrix, face = _placement(portrait, width=width, height=height, zoom=zoom, rng=rng)
    person, alpha = _place(portrait, matrix, width=width, height=height)
    # A portrait pixel holds at most one source pixel (framing never enlarges), so the canvas
    # holds 1/scale source pixels per pixel.
    scale = float(matrix[0, 0])
    effective = (min(width, math.floor(width / scale)), min(height, math.floor(height / scale)))
    small = (max(8, width // _SMALL), max(8, height // _SMALL))
    alpha_small = _resize(alpha, small)
    fall = _vignette(small, light.vignette)[..., None]
    backdrop = _backdrop(background, rng, alpha_small, light=light, size=small) * fall
    gain, rim = shading(alpha_small, face_small=_scaled(face, small[0] / width), light=light)
    lit = cv2.multiply(person, _resize(gain * fall, size))
    lit = cv2.add(lit, _resize(rim[..., None] * np.array(light.rim_tint, np.float32) * fall, size))
    behind = _resize(backdrop, size)
    # Light wrap: right at the silhouette the backdrop's light shows through, as it wraps round.
    weight = alpha * (1.0 - _wrap_band(alpha))
    out = np.asarray(cv2.subtract(lit, behind), dtype=np.float32)
    out *= weight[..., None]
    out += behind
    if light.glow > 0:
        out += _glow(out, small) * light.glow
    return Rendered(_grade(out, light, rng), alpha, *effective)


def encode_jpeg(rgb: U8, *, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality, optimize=False)
    return out.getvalue()


def _placement(
    portrait: Portrait, *, width: int, height: int, zoom: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], FaceRegion]:
    """Portrait-to-canvas affine: cover the canvas, face centred, eyes where the portrait has
    them; a slight zoom and shift from the seed, so two images of one photo are not identical."""
    ph, pw = portrait.alpha.shape
    scale = max(width / pw, height / ph) * zoom * float(rng.uniform(1.0, 1.05))
    face = portrait.face
    ox = width / 2 - face.centre_x * scale + float(rng.uniform(-0.015, 0.015)) * width
    oy = (face.eye_y / ph) * height - face.eye_y * scale
    ox = float(np.clip(ox, width - pw * scale, 0.0))
    oy = float(np.clip(oy, height - ph * scale, 0.0))
    matrix = np.array([[scale, 0.0, ox], [0.0, scale, oy]], dtype=np.float64)
    placed = FaceRegion(
        centre_x=face.centre_x * scale + ox,
        eye_y=face.eye_y * scale + oy,
        chin_y=face.chin_y * scale + oy,
        width=face.width * scale,
    )
    return matrix, placed


def _place(
    portrait: Portrait, matrix: NDArray[np.float64], *, width: int, height: int
) -> tuple[F32, F32]:
    """The person's linear colours and the matte on the canvas; sharpened when enlarged."""
    import cv2

    size = (width, height)
    scale = float(matrix[0, 0])
    # Cubic, not Lanczos: measured 3x faster here (80 vs 270 ms at 1024x1280) for no visible gain.
    flags = cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA
    rgb = cv2.warpAffine(
        portrait.foreground, matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE
    )
    if scale > 1.15:  # enlarging softens; a light unsharp mask restores the look of focus
        soft = cv2.GaussianBlur(rgb, (0, 0), 0.6 * scale)
        rgb = cv2.addWeighted(rgb, 1.25, soft, -0.25, 0.0)
    matte = (portrait.alpha * 255.0).astype(np.uint8)
    alpha = cv2.warpAffine(
        matte, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    linear = cv2.LUT(rgb, _TO_LINEAR)
    return np.asarray(linear, dtype=np.float32), alpha.astype(np.float32) * (1.0 / 255.0)


def _backdrop(
    background: str,
    rng: np.random.Generator,
    alpha: F32,
    *,
    light: Light,
    size: tuple[int, int],
) -> F32:
    """The backdrop in linear light at the reduced size, with the person's soft shadow on it
    when it is a studio backdrop (a location is too far behind to catch one)."""
    import cv2

    width, height = size
    plain = PLAINS.get(background)
    if plain is not None:
        painted = paint_plain(plain, rng, width=width, height=height)
        shift = -float(np.sign(light.key[0])) * 0.05 * width  # away from the key light
        offset = np.array([[1.0, 0.0, shift], [0.0, 1.0, 0.02 * height]], dtype=np.float64)
        moved = cv2.warpAffine(alpha, offset, size, borderMode=cv2.BORDER_REPLICATE)
        cast = np.asarray(cv2.GaussianBlur(moved, (0, 0), 0.05 * width), dtype=np.float32)
        linear = painted**2 * (1.0 - light.shadow * cast[..., None])
    else:
        linear = SCENES[background](rng, width=width, height=height) ** 2
    return np.asarray(linear * light.backdrop, dtype=np.float32)


def _wrap_band(alpha: F32) -> F32:
    """0..`_WRAP`: how much backdrop light wraps over each pixel of the person, strongest right
    at the silhouette and gone a few pixels inside (solved at half size: it is smooth)."""
    import cv2

    height, width = alpha.shape
    half = _resize(alpha, (max(1, width // 2), max(1, height // 2)))
    inner = np.asarray(cv2.GaussianBlur(half, (0, 0), 0.003 * width), dtype=np.float32)
    band = np.clip((1.0 - inner) * 2.2, 0.0, 1.0) * _WRAP
    return _resize(band, (width, height))


def _vignette(size: tuple[int, int], strength: float) -> F32:
    xs = np.linspace(-1.0, 1.0, size[0], dtype=np.float32)
    ys = np.linspace(-1.0, 1.0, size[1], dtype=np.float32)
    return np.asarray(1.0 - strength * 0.5 * (xs[None, :] ** 2 + ys[:, None] ** 2), np.float32)


def _glow(image: F32, small: tuple[int, int]) -> F32:
    import cv2

    height, width = image.shape[:2]
    bright = np.clip(_resize(image, small) - 0.45, 0.0, None)
    bloom = np.asarray(cv2.GaussianBlur(bright, (0, 0), 0.04 * small[0]), dtype=np.float32)
    return _resize(bloom * np.array([1.0, 0.85, 0.6], dtype=np.float32), (width, height))


def _grade(linear: F32, light: Light, rng: np.random.Generator) -> U8:
    """Back to display values: saturation, grain, then white balance and tone curve."""
    import cv2

    height, width = linear.shape[:2]
    display = np.asarray(cv2.sqrt(linear), dtype=np.float32)  # a blend of colours >= 0
    if light.saturation != 1.0:
        s = light.saturation
        luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        mix = s * np.eye(3, dtype=np.float32) + (1.0 - s) * np.tile(luma, (3, 1))
        display = np.asarray(cv2.transform(display, mix), dtype=np.float32)
    grain = rng.standard_normal((height // 2, width // 2), dtype=np.float32) * (_GRAIN * 255.0)
    display *= 255.0
    display += _resize(grain, (width, height))[..., None]
    levels = cv2.convertScaleAbs(display)  # rounds and saturates to 0..255
    return np.asarray(cv2.LUT(levels, _curves(light)), dtype=np.uint8)


def _curves(light: Light) -> U8:
    """Per-channel tone curves (256 x 1 x 3): white balance, then an S-curve for contrast."""
    x = np.arange(256, dtype=np.float32) / 255.0
    balance = (1.0 + light.warmth, 1.0 + 0.25 * light.warmth, 1.0 - light.warmth)
    channels = []
    for factor in balance:
        v = np.clip(x * factor, 0.0, 1.0)
        s = v * v * (3.0 - 2.0 * v)
        channels.append(np.clip(v + light.contrast * (s - v) * 2.0, 0.0, 1.0))
    table = np.stack(channels, axis=-1)[:, None, :]
    return np.asarray(np.round(table * 255.0), dtype=np.uint8)


def _resize(image: F32, size: tuple[int, int]) -> F32:
    import cv2

    if (image.shape[1], image.shape[0]) == size:
        return image
    shrinking = size[0] < image.shape[1]
    flags = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, size, interpolation=flags), dtype=np.float32)


def _scaled(face: FaceRegion, factor: float) -> FaceRegion:
    return FaceRegion(
        centre_x=face.centre_x * factor,
        eye_y=face.eye_y * factor,
        chin_y=face.chin_y * factor,
        width=face.width * factor,
    )
