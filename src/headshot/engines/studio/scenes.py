"""Soft-focus location backdrops, painted procedurally from the seed (no image assets): a bright
office, a park and a city street at golden hour. Each is a few shapes in the right colours,
defocused as a portrait lens would, with bokeh discs drawn on top of the blur."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from headshot.engines.studio.backdrop import value_noise

F32 = NDArray[np.float32]
RGB = tuple[float, float, float]


def office(rng: np.random.Generator, *, width: int, height: int) -> F32:
    image = _vertical(height, width, (0.88, 0.87, 0.85), (0.66, 0.63, 0.60))
    left = bool(rng.integers(0, 2))
    span = (0.0, 0.55) if left else (0.45, 1.0)
    panes = int(rng.integers(2, 4))
    pane_w = (span[1] - span[0]) / panes
    for i in range(panes):
        x0 = span[0] + i * pane_w + 0.012
        _rect(image, (x0, 0.04, x0 + pane_w - 0.024, 0.72), (1.0, 1.0, 1.0), 0.95)
    _rect(image, (0.0, 0.0, 1.0, 0.035), (0.93, 0.93, 0.92), 0.8)  # ceiling light strip
    wall = (0.55, 1.0) if left else (0.0, 0.45)
    _rect(image, (wall[0], 0.18, wall[1], 0.62), (0.74, 0.72, 0.70), 0.7)  # partition
    _rect(image, (0.0, 0.70, 1.0, 1.0), (0.42, 0.36, 0.31), 0.85)  # desks
    for _ in range(3):  # monitors and chairs
        x = float(rng.uniform(0.05, 0.85))
        _rect(image, (x, 0.58, x + float(rng.uniform(0.08, 0.16)), 0.74), (0.16, 0.17, 0.19), 0.9)
    plant_x = 0.9 if left else 0.1
    for _ in range(14):
        centre = (plant_x + float(rng.normal(0, 0.05)), 0.6 + float(rng.normal(0, 0.07)))
        shade = float(rng.uniform(0.7, 1.2))
        _blob(image, centre, float(rng.uniform(0.03, 0.07)), (0.24 * shade, 0.42 * shade, 0.2))
    image = _defocus(image, 0.028)
    lights = [(float(rng.uniform(*span)), float(rng.uniform(0.05, 0.6))) for _ in range(7)]
    for x, y in lights:
        _bokeh(image, (x, y), float(rng.uniform(0.015, 0.035)), (1.0, 0.98, 0.94), 0.25)
    return _clip(image)


def park(rng: np.random.Generator, *, width: int, height: int) -> F32:
    image = _vertical(height, width, (0.60, 0.70, 0.46), (0.17, 0.26, 0.11))
    for _ in range(6):  # sky through the canopy
        centre = (float(rng.uniform(0, 1)), float(rng.uniform(0.0, 0.35)))
        _blob(image, centre, float(rng.uniform(0.05, 0.12)), (0.86, 0.92, 0.80), 0.85)
    for _ in range(70):
        y = float(rng.uniform(0.0, 1.0))
        light = 1.25 - 0.7 * y + float(rng.normal(0, 0.15))
        hue = float(rng.uniform(-0.05, 0.05))
        colour = (light * (0.30 + hue), light * 0.46, light * (0.16 - hue))
        centre = (float(rng.uniform(-0.05, 1.05)), y)
        _blob(image, centre, float(rng.uniform(0.03, 0.11)), colour, 0.8)
    image = _defocus(image, 0.03)
    for _ in range(26):  # sun glinting through leaves
        centre = (float(rng.uniform(0, 1)), float(rng.beta(1.5, 3.0)))
        warm = (1.0, 0.98, float(rng.uniform(0.70, 0.85)))
        _bokeh(image, centre, float(rng.uniform(0.012, 0.04)), warm, float(rng.uniform(0.2, 0.5)))
    return _clip(image)


def city(rng: np.random.Generator, *, width: int, height: int) -> F32:
    image = _vertical(height, width, (0.50, 0.56, 0.70), (0.98, 0.74, 0.50), stop=0.6)
    x = -0.05
    while x < 1.05:
        w = float(rng.uniform(0.08, 0.2))
        top = float(rng.uniform(0.02, 0.4))
        tone = float(rng.uniform(0.75, 1.15))
        _rect(image, (x, top, x + w, 0.8), (0.34 * tone, 0.31 * tone, 0.33 * tone), 0.92)
        _windows(image, rng, (x, top, x + w, 0.75))
        x += w + float(rng.uniform(0.0, 0.04))
    _rect(image, (0.0, 0.78, 1.0, 1.0), (0.24, 0.21, 0.21), 1.0)  # street
    image = _defocus(image, 0.022)
    for _ in range(38):
        centre = (float(rng.uniform(0, 1)), float(rng.uniform(0.35, 0.92)))
        colour = _street_light(rng)
        strength = float(rng.uniform(0.3, 0.75))
        _bokeh(image, centre, float(rng.uniform(0.015, 0.05)), colour, strength)
    return _clip(image)


def _street_light(rng: np.random.Generator) -> RGB:
    roll = float(rng.random())
    if roll < 0.6:
        return (1.0, 0.70, 0.36)  # sodium
    if roll < 0.85:
        return (1.0, 0.86, 0.60)  # tungsten
    return (0.72, 0.86, 1.0)  # a cool shop front


def _windows(image: F32, rng: np.random.Generator, box: tuple[float, ...]) -> None:
    x0, y0, x1, y1 = box
    for _ in range(int((x1 - x0) * (y1 - y0) * 120)):
        x, y = float(rng.uniform(x0, x1 - 0.02)), float(rng.uniform(y0, y1 - 0.02))
        if rng.random() < 0.45:
            _rect(image, (x, y, x + 0.012, y + 0.018), (1.0, 0.82, 0.55), 0.6)


def _vertical(height: int, width: int, top: RGB, bottom: RGB, *, stop: float = 1.0) -> F32:
    t = np.clip(np.linspace(0.0, 1.0, height, dtype=np.float32) / stop, 0.0, 1.0)[:, None, None]
    a, b = np.asarray(top, dtype=np.float32), np.asarray(bottom, dtype=np.float32)
    column = a + (b - a) * t
    return np.ascontiguousarray(np.broadcast_to(column, (height, width, 3)), dtype=np.float32)


def _rect(image: F32, box: tuple[float, ...], colour: RGB, opacity: float) -> None:
    height, width = image.shape[:2]
    x0, y0 = max(0, round(box[0] * width)), max(0, round(box[1] * height))
    x1, y1 = min(width, round(box[2] * width)), min(height, round(box[3] * height))
    if x1 > x0 and y1 > y0:
        region = image[y0:y1, x0:x1]
        region += (np.asarray(colour, dtype=np.float32) - region) * opacity


def _blob(
    image: F32, centre: tuple[float, float], radius: float, colour: RGB, opacity: float = 1.0
) -> None:
    """A soft round shape (leaves, a plant); `centre` and `radius` in shares of the width."""
    _disc(image, centre, radius, colour, opacity=opacity, edge=0.5, add=False)


def _bokeh(
    image: F32, centre: tuple[float, float], radius: float, colour: RGB, strength: float
) -> None:
    """An out-of-focus highlight: a bright disc with a soft edge and a faint rim, added as light."""
    _disc(image, centre, radius, colour, opacity=strength, edge=0.12, add=True)


def _disc(
    image: F32,
    centre: tuple[float, float],
    radius: float,
    colour: RGB,
    *,
    opacity: float,
    edge: float,
    add: bool,
) -> None:
    height, width = image.shape[:2]
    cx, cy, r = centre[0] * width, centre[1] * height, max(1.0, radius * width)
    x0, x1 = max(0, int(cx - r - 2)), min(width, int(cx + r + 3))
    y0, y1 = max(0, int(cy - r - 2)), min(height, int(cy + r + 3))
    if x1 <= x0 or y1 <= y0:
        return
    xs = np.arange(x0, x1, dtype=np.float32) - cx
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
    d = np.sqrt(xs[None, :] ** 2 + ys**2) / r
    mask = np.clip((1.0 - d) / edge, 0.0, 1.0) * opacity
    region, tint = image[y0:y1, x0:x1], np.asarray(colour, dtype=np.float32)
    if add:
        rim = 0.8 + 0.3 * np.clip(d, 0.0, 1.0) ** 6  # lens bokeh is brighter at its rim
        region[:] = 1.0 - (1.0 - region) * (1.0 - tint * (mask * rim)[..., None])
    else:
        region += (tint - region) * mask[..., None]


def _defocus(image: F32, sigma: float) -> F32:
    """Lens blur, `sigma` in shares of the width, with a faint texture so flats are not clean."""
    import cv2

    height, width = image.shape[:2]
    blurred = cv2.GaussianBlur(image, (0, 0), sigma * width)
    rng = np.random.default_rng(width * 7919 + height)
    shade = value_noise(rng, width=width, height=height, cells=5)
    return np.asarray(blurred * (1.0 + 0.03 * shade[..., None]), dtype=np.float32)


def _clip(image: F32) -> F32:
    return np.asarray(np.clip(image, 0.0, 1.0), dtype=np.float32)
