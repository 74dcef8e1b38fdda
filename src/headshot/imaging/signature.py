"""A near-duplicate signature of a picture: its luminance structure at a tiny size, so two
renders of one photo (a slight zoom, another backdrop seed) score a cosine near 1 and two
different photos do not. Used to cull look-alike candidates of a generation."""

from __future__ import annotations

import io

import numpy as np

_SIZE = (16, 20)  # width, height: the layout of a 4:5 headshot, without its texture
_CENTRE = (0.2, 0.1, 0.8, 0.75)  # the face and shoulders, where two photos differ most


def picture_signature(image: bytes) -> tuple[float, ...]:
    """A unit vector (mean-free luminance of the picture's centre at 16x20 pixels) to compare
    with `headshot.domain.culling.cosine`."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as opened:
        opened.draft("L", (_SIZE[0] * 4, _SIZE[1] * 4))
        grey = opened.convert("L")
        width, height = grey.size
        box = (
            round(_CENTRE[0] * width),
            round(_CENTRE[1] * height),
            round(_CENTRE[2] * width),
            round(_CENTRE[3] * height),
        )
        small = grey.crop(box).resize(_SIZE, Image.Resampling.BOX)
    values = np.asarray(small, dtype=np.float64).ravel()
    vector = values - values.mean()
    norm = float(np.linalg.norm(vector))
    return tuple(float(v) for v in (vector / norm if norm > 0 else vector))
