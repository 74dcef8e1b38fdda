"""Small renditions of generated headshots for gallery grids."""

from __future__ import annotations

import io

from PIL import Image

from headshot.imaging.compress import thumbnail

THUMB_LONG_SIDE = 384


def headshot_thumbnail(image: bytes, *, long_side: int = THUMB_LONG_SIDE) -> bytes:
    """A JPEG of at most `long_side` pixels on its long side, without metadata."""
    with Image.open(io.BytesIO(image)) as decoded:
        decoded.draft("RGB", (long_side, long_side))  # JPEG: decode at a reduced size, fast
        return thumbnail(decoded, long_side=long_side)
