"""The only APPn payloads a sanitised JPEG may hold (written fresh, never copied)."""

from __future__ import annotations

JFIF_APP0_PAYLOAD = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def is_minimal_adobe(payload: bytes) -> bool:
    """Adobe APP14 with version 100, no flags and a defined colour transform, nothing more."""
    return (
        len(payload) == 12
        and payload[:11] == b"Adobe\x00\x64\x00\x00\x00\x00"
        and payload[11] in (0, 1, 2)
    )
