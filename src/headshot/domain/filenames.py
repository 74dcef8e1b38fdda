"""Display names for uploaded files. A name is shown to its owner and nothing else: it never
names a path on our side, so it is reduced to what is safe to show anywhere.

NFC-normalised; the base name only (no folders); no control, format (bidi overrides, zero-width
characters), private-use or unassigned characters; none of `<>:"/\\|?*`; runs of white space
become one space; no leading or trailing dots or spaces; at most `MAX_LENGTH` characters, keeping
a short extension.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 120
_MAX_EXTENSION = 10
_RESERVED = frozenset('<>:"/\\|?*')


def display_filename(raw: str, *, fallback: str = "photo") -> str:
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in _RESERVED)
    tidy = " ".join(kept.split()).strip(" .")
    return _capped(tidy) or fallback


def _capped(name: str) -> str:
    if len(name) <= MAX_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= _MAX_EXTENSION:
        return stem[: MAX_LENGTH - len(extension) - 1].rstrip(" .") + "." + extension
    return name[:MAX_LENGTH].rstrip(" .")
