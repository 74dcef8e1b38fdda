"""Plain studio backdrops, painted procedurally: a base colour, a soft pool of light behind the
head falling off to the corners, and a faint mottle like painted muslin so it never looks flat.
Backdrops are painted at a quarter of the output size (they hold no detail) and scaled up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Plain:
    """A backdrop: `centre` colour behind the head, `edge` colour in the corners."""

    centre: RGB
    edge: RGB
    mottle: float  # strength of the painted texture, in 0..1 colour units
    floor: float = 0.0  # darkening towards the bottom (the backdrop curving away from the light)


PLAINS: dict[str, Plain] = {
    "studio-grey": Plain((0.60, 0.61, 0.62), (0.36, 0.37, 0.385), 0.025, 0.05),
    "studio-white": Plain((0.985, 0.985, 0.98), (0.86, 0.865, 0.87), 0.01),
    "charcoal": Plain((0.30, 0.305, 0.32), (0.085, 0.088, 0.095), 0.02, 0.03),
    "navy-gradient": Plain((0.20, 0.30, 0.48), (0.035, 0.065, 0.14), 0.015, 0.04),
    "warm-beige": Plain((0.90, 0.83, 0.72), (0.70, 0.60, 0.48), 0.045),
}


def value_noise(
    rng: np.random.Generator, *, width: int, height: int, cells: int, octaves: int = 3
) -> F32:
    """Smooth noise in about -1..1: random grids of growing density, upscaled and summed."""
    import cv2

    total = np.zeros((height, width), dtype=np.float32)
    weight = 0.0
    for octave in range(octaves):
        n = cells * 2**octave
        grid = rng.random((max(2, round(n * height / width)), n), dtype=np.float32) * 2.0 - 1.0
        total += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) / 2**octave
        weight += 1.0 / 2**octave
    return np.asarray(total / weight, dtype=np.float32)


def radial(
    *, width: int, height: int, centre: tuple[float, float], reach: float, aspect: float = 0.8
) -> F32:
    """1 at `centre` (shares of width and height), falling smoothly to 0 at `reach` widths."""
    xs = (np.arange(width, dtype=np.float32) / width - centre[0]) / reach
    ys = (np.arange(height, dtype=np.float32) / width - centre[1] * height / width) / reach
    d2 = xs[None, :] ** 2 + (ys[:, None] * aspect) ** 2
    return np.asarray(np.exp(-1.6 * d2), dtype=np.float32)


def paint_plain(plain: Plain, rng: np.random.Generator, *, width: int, height: int) -> F32:
    """The backdrop at (width, height): light pool, falloff, floor and mottle."""
    # The pool sits a little off-centre, like a lamp placed by hand; the seed moves it.
    cx = 0.5 + float(rng.uniform(-0.08, 0.08))
    cy = 0.33 + float(rng.uniform(-0.05, 0.05))
    pool = radial(width=width, height=height, centre=(cx, cy), reach=0.75)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    pool = pool * (1.0 - plain.floor * rows * rows * 4.0)
    centre = np.asarray(plain.centre, dtype=np.float32)
    edge = np.asarray(plain.edge, dtype=np.float32)
    image = edge + (centre - edge) * pool[..., None]
    mottle = value_noise(rng, width=width, height=height, cells=4, octaves=4)
    image = image * (1.0 + plain.mottle * 1.6 * mottle[..., None])
    return np.asarray(np.clip(image, 0.0, 1.0), dtype=np.float32)


def texture_canvas(image: F32, rng: np.random.Generator, *, strength: float) -> F32:
    """A fine woven texture (for the beige backdrop): directional streaks at the final size."""
    import cv2

    height, width = image.shape[:2]
    fibre = rng.standard_normal((height, width), dtype=np.float32)
    across = cv2.GaussianBlur(fibre, (0, 0), sigmaX=3.0, sigmaY=0.6)
    down = cv2.GaussianBlur(fibre, (0, 0), sigmaX=0.6, sigmaY=3.0)
    weave = (across + down) * strength
    return np.asarray(image * (1.0 + weave[..., None]), dtype=np.float32)
