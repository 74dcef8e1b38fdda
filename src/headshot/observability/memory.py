"""Giving freed memory back to the operating system after heavy work.

glibc keeps the memory freed in each thread's malloc arena for reuse; after decoding photos or
rendering headshots that is tens of MB per thread, held for good. `malloc_trim(0)` returns the
free pages of every arena at once (a few milliseconds), so the server's resident memory follows
the work it is doing instead of the most it ever did in each thread. Elsewhere than glibc this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    return trim


def release_free_memory() -> bool:
    """Return freed heap memory to the operating system; whether that was possible here."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
