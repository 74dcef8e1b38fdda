"""Preview images for the style picker: each background painted by the same code that renders
headshots, each lighting preset shown on a plain grey bust, and each attire as a simple
illustration (not a photo: only the AI engine can dress a person)."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from headshot.engines.studio.backdrop import PLAINS, paint_plain
from headshot.engines.studio.lighting import LIGHTS, Light
from headshot.engines.studio.render import SCENES

WIDTH, HEIGHT = 240, 300
SEED = 7  # previews are the same every time
# Attire illustrations: (garment, collar or inner layer) colours.
ATTIRE_COLOURS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "as-is": ((120, 132, 150), (200, 205, 212)),
    "business-suit": ((32, 38, 56), (245, 245, 245)),
    "blazer-open": ((96, 100, 108), (196, 216, 236)),
    "smart-casual": ((46, 112, 118), (46, 112, 118)),
    "creative": ((22, 22, 24), (22, 22, 24)),
    "medical": ((244, 246, 248), (150, 196, 222)),
}


def render_preview(axis: str, style_id: str) -> bytes | None:
    """A JPEG preview, or None for an unknown style."""
    if axis == "background" and style_id in PLAINS | SCENES:
        return _jpeg(_background(style_id))
    if axis == "lighting" and style_id in LIGHTS:
        return _jpeg(_lit_bust(LIGHTS[style_id]))
    if axis == "attire" and style_id in ATTIRE_COLOURS:
        return _jpeg(np.asarray(_attire(style_id)))
    return None


def _background(style_id: str) -> NDArray[np.uint8]:
    rng = np.random.default_rng(SEED)
    plain = PLAINS.get(style_id)
    painted = (
        paint_plain(plain, rng, width=WIDTH, height=HEIGHT)
        if plain is not None
        else SCENES[style_id](rng, width=WIDTH, height=HEIGHT)
    )
    return np.asarray(np.clip(painted * 255.0, 0, 255), dtype=np.uint8)


def _lit_bust(light: Light) -> NDArray[np.uint8]:
    """A grey head and shoulders, shaded by the preset's key, fill, rim, tint and warmth."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    head = _sphere(xs, ys, centre=(WIDTH * 0.5, HEIGHT * 0.40), radius=WIDTH * 0.23)
    body = _sphere(xs, ys, centre=(WIDTH * 0.5, HEIGHT * 1.12), radius=WIDTH * 0.58)
    normals = np.where(head[0][..., None] > 0, head[1], body[1])
    inside = np.maximum(head[0], body[0])
    key = np.asarray(light.key, dtype=np.float32)
    key /= float(np.linalg.norm(key))
    lambert = np.clip(normals @ key, 0.0, 1.0)
    shade = light.ambient + light.key_strength * lambert
    rim = light.rim * np.clip(-normals[..., 0] * np.sign(key[0]), 0, 1) ** 3
    tint = np.asarray(light.key_tint, dtype=np.float32)
    person = 0.55 * light.exposure * (shade[..., None] * tint + rim[..., None])
    person = person * (1.0 + light.warmth * np.asarray([0.9, 0.2, -0.7], dtype=np.float32))
    backdrop = np.full((HEIGHT, WIDTH, 3), 0.42 * light.backdrop, dtype=np.float32)
    image = backdrop * (1.0 - inside[..., None]) + person * inside[..., None]
    return np.asarray(np.clip(np.sqrt(np.clip(image, 0, 1)) * 255.0, 0, 255), dtype=np.uint8)


def _sphere(
    xs: NDArray[np.float32], ys: NDArray[np.float32], *, centre: tuple[float, float], radius: float
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Coverage (soft-edged) and unit normals of a sphere seen from the front."""
    dx, dy = (xs - centre[0]) / radius, (ys - centre[1]) / radius
    r2 = dx * dx + dy * dy
    coverage = np.clip((1.0 - r2) * radius / 2.0, 0.0, 1.0)
    dz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    return coverage, np.stack([dx, dy, dz], axis=-1).astype(np.float32)


def _attire(style_id: str) -> Image.Image:
    garment, inner = ATTIRE_COLOURS[style_id]
    image = Image.new("RGB", (WIDTH, HEIGHT), (226, 228, 232))
    draw = ImageDraw.Draw(image)
    cx = WIDTH // 2
    draw.ellipse((cx - 150, 215, cx + 150, 420), fill=garment)  # shoulders and torso
    draw.rectangle((cx - 22, 160, cx + 22, 225), fill=(214, 180, 156))  # neck
    draw.polygon([(cx - 34, 212), (cx + 34, 212), (cx, 290)], fill=inner)  # collar or layer
    if style_id == "business-suit":
        draw.polygon(
            [(cx - 7, 222), (cx + 7, 222), (cx + 11, 285), (cx, 298), (cx - 11, 285)],
            fill=(120, 30, 40),
        )  # tie
    draw.ellipse((cx - 52, 56, cx + 52, 184), fill=(222, 188, 164))  # head
    return image


def _jpeg(rgb: NDArray[np.uint8]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=88)
    return out.getvalue()
