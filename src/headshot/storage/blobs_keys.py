"""Blob key rules shared by every `BlobStore`: `/`-separated segments that can never escape."""

from __future__ import annotations

import re

from headshot.storage.blobs import BlobError

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def check_key(key: str) -> str:
    """Return key if it is a safe relative key, else raise `BlobError`."""
    segments = key.split("/")
    if not key or len(key) > 512 or any(s in {"", ".", ".."} for s in segments):
        raise BlobError("invalid blob key")
    if not all(_SEGMENT.match(s) for s in segments):
        raise BlobError("invalid blob key")
    return key
