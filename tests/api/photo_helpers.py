"""Photo bytes for API tests, made from the shared public-domain test photos."""

from __future__ import annotations

import struct
import zlib
from functools import cache
from pathlib import Path

PORTRAIT = "pd_obama_portrait_2012.jpg"


def portrait_bytes(testdata: Path, name: str = PORTRAIT) -> bytes:
    return (testdata / name).read_bytes()


@cache
def huge_png_header(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG of width x height grey pixels, zlib-compressed to a few hundred KB (a bomb)."""
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    rows = row * 100  # compress 100 rows a call: fast, and memory stays small
    body = b"".join(compressor.compress(rows) for _ in range(height // 100)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# Random ciphertext holds any given 3-byte sequence about once per 16 MiB, so short magic numbers
# are looked for only where a file starts; longer markers anywhere.
_MAGICS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")
_MARKERS = (
    b"JFIF\x00",
    b"Exif\x00\x00",
    b"\x89PNG\r\n\x1a\n",
    b"ftypheic",
    b"ftypmif1",
    b"WEBPVP8",
)


def looks_like_plain_image(content: bytes) -> bool:
    """Whether stored bytes look like an unencrypted image."""
    return content.startswith(_MAGICS) or any(marker in content for marker in _MARKERS)
