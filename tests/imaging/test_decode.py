"""Safe decoding: hostile files get a clear error; good files come out upright and clean."""

from __future__ import annotations

import io
import resource
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
from headshot.imaging.decode import clean_original, decode, probe
from headshot.imaging.jpegstrip import strip_jpeg_metadata

LIMITS = {"max_pixels": 60_000_000, "max_side": 20_000}


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height`, with a few hundred bytes of zlib data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * 100_000, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def zip_polyglot(photo: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.txt", "not a photo")
    return photo + archive.getvalue()


@pytest.fixture(scope="module")
def portrait(faces: Path) -> bytes:
    return (faces / "pd_obama_portrait_2012.jpg").read_bytes()


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda _: b"", "empty"),
        (lambda _: b"just some text, named photo.jpg\n", "not a photo"),
        (lambda p: p[:200], "not a photo"),
        (lambda p: p[: len(p) // 2], "incomplete or damaged"),
        (lambda _: animated_gif(), "Animated"),
        (zip_polyglot, "other data"),
        (lambda p: p + b"<script>alert(1)</script>", "other data"),
        (lambda p: b"<html><body>" + p, "not a photo"),
    ],
    ids=["empty", "text", "truncated-header", "truncated", "gif", "zip-polyglot", "script", "html"],
)
def test_hostile_files_are_refused_as_format(
    make: Callable[[bytes], bytes], fragment: str, portrait: bytes
) -> None:
    data = make(portrait)
    # A cut-off pixel stream is only noticed when decoding; everything else from the header.
    for call in (decode,) if fragment == "incomplete or damaged" else (probe, decode):
        with pytest.raises(InvalidInputError) as caught:
            call(data, **LIMITS)
        assert caught.value.code == "format"
        assert fragment in caught.value.message
        assert "/" not in caught.value.message


@pytest.mark.parametrize("side", [30_000, 12_000])
def test_pixel_bombs_are_refused_fast_from_the_header(side: int) -> None:
    data = png_bomb(side, side)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(PayloadTooLargeError) as caught:
        decode(data, **LIMITS)
    assert time.perf_counter() - started < 0.2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KiB
    assert caught.value.code == "too_large"
    assert "megapixels" in caught.value.message


def test_limits_are_the_callers() -> None:
    with pytest.raises(PayloadTooLargeError):
        probe(png_bomb(3000, 100), max_pixels=60_000_000, max_side=2000)


def test_probe_reads_upright_size(faces: Path) -> None:
    info = probe((faces / "d_obama_exif_orient6.jpg").read_bytes(), **LIMITS)
    assert (info.width, info.height, info.orientation) == (512, 640, 6)
    heic = probe((faces / "d_biden_1024.heic").read_bytes(), **LIMITS)
    assert heic.format == "HEIF" and heic.mime == "image/heif"


@pytest.mark.parametrize(
    "name",
    ["d_obama_gray.jpg", "d_obama_cmyk.jpg", "d_obama_rgba.png", "d_obama_exif_orient6.jpg"],
)
def test_odd_modes_decode_to_upright_rgb(name: str, faces: Path, portrait: bytes) -> None:
    decoded = decode((faces / name).read_bytes(), **LIMITS)
    reference = decode(portrait, **LIMITS, target_long_side=640)
    assert decoded.pixels.shape == (640, 512, 3)
    assert decoded.image.mode == "RGB"
    # Upright and the right colours: close to the original, resized.
    centre = decoded.pixels[200:400, 150:350].astype(float).mean()
    assert abs(centre - reference.pixels[200:400, 150:350].astype(float).mean()) < 25


def test_alpha_is_composited_on_white(faces: Path) -> None:
    decoded = decode((faces / "d_obama_rgba.png").read_bytes(), **LIMITS)
    assert decoded.pixels[2, 2].tolist() == [255, 255, 255]


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (64, 64), 40_000)
    out = io.BytesIO()
    image.save(out, format="PNG")
    decoded = decode(out.getvalue(), **LIMITS)
    assert decoded.pixels[0, 0].tolist() == [156, 156, 156]


def test_webp_and_reduced_jpeg_decode(portrait: bytes) -> None:
    out = io.BytesIO()
    Image.open(io.BytesIO(portrait)).save(out, format="WEBP", quality=80)
    webp = decode(out.getvalue(), **LIMITS, target_long_side=300)
    assert webp.info.format == "WEBP" and 300 <= max(webp.image.size) < 600
    reduced = decode(portrait, **LIMITS, target_long_side=300)
    assert 300 <= max(reduced.image.size) < 600


@pytest.mark.parametrize(
    "name",
    [
        "pd_obama_portrait_2012.jpg",
        "d_obama_exif_orient6.jpg",
        "d_obama_rgba.png",
        "d_biden_1024.heic",
        "d_obama_cmyk.jpg",
    ],
)
def test_clean_original_has_no_metadata(name: str, faces: Path) -> None:
    data, mime = clean_original((faces / name).read_bytes(), **LIMITS)
    image = Image.open(io.BytesIO(data))
    assert mime == ("image/png" if name.endswith(".png") else "image/jpeg")
    assert dict(image.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    assert image.size[0] < image.size[1]  # upright portrait
    for marker in (b"Exif\0", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop"):
        assert marker not in data


def test_jpeg_strip_is_lossless(portrait: bytes) -> None:
    stripped = strip_jpeg_metadata(portrait)
    assert stripped is not None and len(stripped) < len(portrait)
    before = Image.open(io.BytesIO(portrait)).convert("RGB").tobytes()
    assert Image.open(io.BytesIO(stripped)).convert("RGB").tobytes() == before
    assert strip_jpeg_metadata(portrait[: len(portrait) // 2]) is None
