"""Photos that carry private data outside their pixels, as phones and editors write it, and a
JPEG segment reader to check what a stored or served image still holds."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

SECRET = b"SECRET"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def every_marker_family(photo: bytes) -> bytes:
    """`photo` as an MPO whose primary picture carries a secret in APP0 (JFIF and JFXX), APP1
    (EXIF and XMP), APP2 (ICC), APP3-APP15 (IPTC/Photoshop in APP13, Adobe in APP14) and a
    comment; a secondary MPF picture (a "depth map") with its own secret; and a trailer after
    the last EOI, as a motion photo appends its video."""
    primary = Image.open(io.BytesIO(photo)).convert("RGB")
    depth = Image.new("L", (64, 48), 90).convert("RGB")
    out = io.BytesIO()
    primary.save(out, "MPO", save_all=True, append_images=[depth], quality=92)
    mpo = out.getvalue()
    second = mpo.index(b"\xff\xd8", 2)
    secondary_secret = _segment(0xFE, SECRET + b"-MPF-SECONDARY-DEPTH-MAP")
    mpo = mpo[: second + 2] + secondary_secret + mpo[second + 2 :]
    segments = [
        _segment(0xE0, b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00" + SECRET + b"-APP0-JFIF"),
        _segment(0xE0, b"JFXX\x00\x13" + SECRET + b"-APP0-JFXX-GPS 48.8584N 2.2945E"),
        _segment(0xE1, b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00" + SECRET + b"-APP1-EXIF"),
        _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + SECRET + b"-XMP</x>"),
        _segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + SECRET + b"-APP2-ICC"),
        *(_segment(m, SECRET + f"-APP{m - 0xE0}".encode()) for m in range(0xE3, 0xED)),
        _segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04" + SECRET + b"-APP13-IPTC"),
        _segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01" + SECRET + b"-APP14-SERIAL 12345"),
        _segment(0xEF, SECRET + b"-APP15"),
        _segment(0xFE, SECRET + b"-COM-comment"),
    ]
    trailer = b"\x00\x00\x00\x18ftypmp42" + SECRET + b"-TRAILER-MOTION-PHOTO-VIDEO"
    return mpo[:2] + b"".join(segments) + mpo[2:] + trailer


@dataclass(frozen=True)
class JpegLayout:
    markers: list[int]  # every marker before the first scan, in order
    app_payloads: list[bytes]  # APPn and COM payloads
    after_eoi: bytes


def jpeg_layout(data: bytes) -> JpegLayout:
    """The segments of a JPEG's first picture and whatever follows its first EOI."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers: list[int] = []
    payloads: list[bytes] = []
    pos = 2
    while True:
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        markers.append(marker)
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            payloads.append(data[pos + 4 : pos + 2 + length])
        if marker == 0xDA:
            break
        pos += 2 + length
    end = _first_eoi(data, pos)
    return JpegLayout(markers, payloads, data[end:])


def _first_eoi(data: bytes, pos: int) -> int:
    while True:
        pos = data.index(b"\xff", pos)
        marker = data[pos + 1]
        if marker == 0xD9:
            return pos + 2
        if marker in (0xC4, 0xDB, 0xDD, 0xDA):
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        else:
            pos += 1


def transparent_band(photo: bytes, *, colour: tuple[int, int, int]) -> bytes:
    """An RGBA PNG of the photo whose right fifth is fully transparent but still coloured."""
    image = Image.open(io.BytesIO(photo)).convert("RGBA")
    width, height = image.size
    band = Image.new("RGBA", (width // 5, height), (*colour, 0))
    image.paste(band, (width - width // 5, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
