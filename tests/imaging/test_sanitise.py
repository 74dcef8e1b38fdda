"""The sanitising writer: JPEGs rebuilt losslessly from a whitelist, everything else re-encoded
with nothing but pixels, and no colour left under fully transparent pixels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from headshot.imaging.decode import clean_original
from tests.hostile_images import SECRET, every_marker_family, jpeg_layout, transparent_band
from tests.imaging.jpeg_canon import JFIF_APP0_PAYLOAD, is_minimal_adobe

LIMITS = {"max_pixels": 60_000_000, "max_side": 20_000}
PHOTO = "pd_obama_portrait_2012.jpg"


def _pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGB").tobytes()


def test_every_marker_family_goes_and_the_pixels_stay(faces: Path) -> None:
    hostile = every_marker_family((faces / PHOTO).read_bytes())
    clean, mime = clean_original(hostile, **LIMITS)
    layout = jpeg_layout(clean)
    assert mime == "image/jpeg" and SECRET not in clean and layout.after_eoi == b""
    assert all(is_minimal_adobe(p) or p == JFIF_APP0_PAYLOAD for p in layout.app_payloads)
    assert _pixels(clean) == _pixels(hostile)


def test_progressive_jpeg_is_rebuilt_losslessly(faces: Path) -> None:
    out = io.BytesIO()
    Image.open(faces / PHOTO).save(out, "JPEG", progressive=True, quality=90, comment=b"hi")
    clean, _ = clean_original(out.getvalue(), **LIMITS)
    assert jpeg_layout(clean).app_payloads == [JFIF_APP0_PAYLOAD]
    assert _pixels(clean) == _pixels(out.getvalue())


def test_a_segment_between_scans_makes_it_re_encode(faces: Path) -> None:
    out = io.BytesIO()
    Image.open(faces / PHOTO).save(out, "JPEG", progressive=True, quality=90)
    data = out.getvalue()
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    comment = b"\xff\xfe\x00\x10" + SECRET + b"-BETWEEN"
    clean, mime = clean_original(data[:second_scan] + comment + data[second_scan:], **LIMITS)
    assert mime == "image/jpeg" and SECRET not in clean


def test_no_colour_survives_under_full_transparency(faces: Path) -> None:
    png = transparent_band((faces / PHOTO).read_bytes(), colour=(9, 200, 30))
    clean, mime = clean_original(png, **LIMITS)
    rgba = np.asarray(Image.open(io.BytesIO(clean)))
    assert mime == "image/png" and rgba.shape[2] == 4
    hidden = rgba[rgba[..., 3] == 0]
    assert len(hidden) > 0 and not hidden[:, :3].any()
    visible = rgba[rgba[..., 3] == 255]
    assert visible[:, :3].any()
