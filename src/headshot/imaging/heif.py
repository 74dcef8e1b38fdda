"""Registers pillow-heif's HEIF opener with Pillow, lazily and exactly once per process."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_registered = False


def ensure_heif_opener() -> None:
    """Make `PIL.Image.open` understand HEIC/HEIF. Safe to call from many threads."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        import pillow_heif

        # Thumbnails and depth maps are never used; skipping them saves decode time and memory.
        pillow_heif.options.THUMBNAILS = False
        pillow_heif.options.DEPTH_IMAGES = False
        pillow_heif.options.AUX_IMAGES = False
        pillow_heif.register_heif_opener()
        _registered = True
