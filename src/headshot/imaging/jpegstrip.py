"""Lossless JPEG rebuild from a whitelist: only what a decoder needs to draw the first picture.

Kept, byte for byte: frame headers (SOFn), Huffman and arithmetic tables (DHT, DAC), quantisation
tables (DQT), the restart interval (DRI) and the scans with their entropy-coded data, up to the
first EOI. Written fresh, never copied: a minimal JFIF APP0 (version 1.01, no density, no
thumbnail) or, when the source has an Adobe APP14, a minimal one holding only its colour-transform
byte (decoders need it to tell RGB from YCbCr). Dropped: every other APPn payload (JFIF/JFXX
thumbnails and text, EXIF and XMP in APP1, ICC profiles and MPF in APP2, maker notes, IPTC and
Photoshop blocks in APP13, …), COM comments, and everything after the first EOI (MPF secondary
images such as depth and gain maps, motion-photo videos, appended archives).
"""

from __future__ import annotations

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_TABLES = frozenset({0xC4, 0xCC, 0xDB, 0xDD})  # DHT, DAC, DQT, DRI
_KEEP = _SOF | _TABLES
_ADOBE = 0xEE
_SOS = 0xDA
_EOI = 0xD9
_SOI = b"\xff\xd8"
JFIF_APP0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def adobe_app14(transform: int) -> bytes:
    """A minimal Adobe segment: version 100, no flags, the given colour transform."""
    return b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + bytes([transform])


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The first picture of a JPEG rebuilt from the whitelist above, or None when the stream is
    not well formed (the caller then re-encodes from decoded pixels)."""
    if data[:2] != _SOI:
        return None
    kept = bytearray()
    transform: int | None = None
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
            header = adobe_app14(transform) if transform is not None else JFIF_APP0
            return _SOI + header + bytes(kept) + data[pos:scan_end]
        if marker in _KEEP:
            kept += data[pos:end]
        elif marker == _ADOBE and data[pos + 4 : pos + 9] == b"Adobe" and length >= 14:
            # Only the three defined values pass: the byte must not become a hidden channel.
            transform = data[pos + 15] if data[pos + 15] in (0, 1, 2) else transform
        pos = end
    return None


def _end_of_image(data: bytes, start: int) -> int | None:
    """Index just past the EOI marker of the picture whose first scan starts at `start`.

    Entropy-coded data escapes 0xFF as 0xFF00 and uses 0xFFD0-D7 as restart markers; the only
    other markers allowed between scans (progressive JPEG) are length-prefixed tables and further
    scans. Anything else, an APPn or COM segment included, makes the caller re-encode instead.
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
        if marker in (0xC4, 0xCC, 0xDB, 0xDD, _SOS):
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            continue
        return None
