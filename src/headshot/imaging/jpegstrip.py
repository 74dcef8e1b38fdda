"""Lossless metadata removal for JPEG: keep the segments needed to decode, drop everything else."""

from __future__ import annotations

# Markers kept: frame headers, tables, restart interval, JFIF (APP0) and Adobe (APP14, which tells
# decoders how colours were transformed). Dropped: EXIF/XMP (APP1), ICC (APP2), maker and IPTC
# segments (APP3-13, APP15), comments (COM), and anything after the end of the first picture.
_KEEP = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCC})
_KEEP = _KEEP | {0xCD, 0xCE, 0xCF, 0xDB, 0xDD, 0xE0, 0xEE}
_SOS = 0xDA
_EOI = 0xD9


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The same JPEG without metadata segments, or None when the stream is not well formed
    (the caller then re-encodes from decoded pixels)."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            return None
        if marker == _SOS:
            scan_end = _end_of_image(data, pos)
            if scan_end is None:
                return None
            out += data[pos:scan_end]
            return bytes(out)
        if marker in _KEEP:
            out += data[pos:end]
        pos = end
    return None


def _end_of_image(data: bytes, start: int) -> int | None:
    """Index just past the EOI marker of the picture whose first scan starts at `start`.

    Entropy-coded data escapes 0xFF as 0xFF00 and uses 0xFFD0-D7 as restart markers; any other
    marker between scans (progressive JPEG: tables and further scans) is a length-prefixed segment.
    Anything else is unexpected here and makes the caller fall back to re-encoding.
    """
    pos = start
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return None
        marker = data[pos + 1]
        if marker == _EOI:
            return pos + 2
        if marker == 0x00 or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            pos += 1
            continue
        if marker in (0xC4, 0xDB, 0xDD, _SOS):
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            continue
        return None
