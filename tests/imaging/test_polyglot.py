"""The polyglot check: real attachments are refused with the reason, and tag-like bytes that
compressed pixels produce by chance are not."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headshot.domain.errors import InvalidInputError
from headshot.imaging.decode import probe
from headshot.imaging.polyglot import foreign_content

LIMITS = {"max_pixels": 60_000_000, "max_side": 20_000}


@pytest.fixture(scope="module")
def photo(faces: Path) -> bytes:
    return (faces / "pd_obama_portrait_2012.jpg").read_bytes()


def _with_comment(photo: bytes, text: bytes) -> bytes:
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return photo[:2] + segment + photo[2:]


@pytest.mark.parametrize(
    "chance",
    [b"<svg\x93\xff\x00\x12", b"<SVG \x00\x01\x02\x03\x04\x05\x06", b"<html>\xc3\x01", b"<svg"],
)
def test_tag_bytes_found_by_chance_are_not_a_polyglot(photo: bytes, chance: bytes) -> None:
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    data = _with_comment(photo, noise[:100] + chance + noise[100:])
    assert foreign_content(data) is None
    assert probe(data, **LIMITS).format == "JPEG"


def test_random_jpeg_data_is_never_a_polyglot() -> None:
    rng = np.random.default_rng(14)
    for _ in range(5):
        pixels = rng.integers(0, 256, (600, 800, 3), dtype=np.uint8)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, "JPEG", quality=95)
        assert foreign_content(out.getvalue()) is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"<script>fetch('/api/v1/me')</script>", "text of a script"),
        (b'<svg onload="alert(1)" xmlns="http://www.w3.org/2000/svg">', "text of an SVG drawing"),
        (b"<!DOCTYPE html><html><body>hello</body></html>", "text of a web page"),
        (b"<?php system($_GET['c']); ?>", "text of PHP code"),
    ],
)
def test_active_content_is_refused_with_its_reason(
    photo: bytes, payload: bytes, reason: str
) -> None:
    for data in (photo + payload, _with_comment(photo, payload)):
        with pytest.raises(InvalidInputError) as refused:
            probe(data, **LIMITS)
        assert reason in refused.value.message and "other data" in refused.value.message


def test_an_attached_zip_archive_is_refused_with_its_reason(photo: bytes) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.txt", "not a photo")
    with pytest.raises(InvalidInputError) as refused:
        probe(photo + archive.getvalue(), **LIMITS)
    assert "a ZIP archive attached to the photo" in refused.value.message
