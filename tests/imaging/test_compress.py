"""R1.4: training images under 1 MB, long side 1024, SSIM >= 0.97, no metadata; thumbnails."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headshot.imaging.compress import encode_training, ssim
from headshot.imaging.pipeline import PhotoOutcome, PhotoValidator


def twelve_megapixels(faces: Path, *, fmt: str = "JPEG") -> bytes:
    """The 12 MP fixture recipe of PROVENANCE.md, with EXIF that must not survive."""
    image = Image.open(faces / "pd_obama_portrait_2012.jpg").crop((0, 0, 910, 682))
    image = image.resize((4032, 3024))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format=fmt, quality=90, exif=exif.tobytes())
    return out.getvalue()


def test_ssim_basics() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 255, (64, 64), dtype=np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, (255 - a).astype(np.uint8)) < 0.2


def test_training_image_meets_r14(faces: Path, validator: PhotoValidator) -> None:
    outcome = validator.analyze(twelve_megapixels(faces), filename="big.jpg")
    assert outcome.report.accepted, outcome.report.findings
    assert outcome.training_jpeg is not None
    training = Image.open(io.BytesIO(outcome.training_jpeg))
    assert max(training.size) == 1024
    assert len(outcome.training_jpeg) < 1_000_000
    for blob in (outcome.training_jpeg, outcome.original, outcome.thumbnail_jpeg):
        image = Image.open(io.BytesIO(blob))
        assert dict(image.getexif()) == {}
        assert b"PhoneMaker" not in blob and b"Exif\0" not in blob
    assert max(Image.open(io.BytesIO(outcome.thumbnail_jpeg)).size) == 320


def test_encoder_reaches_the_ssim_and_size(faces: Path) -> None:
    source = Image.open(faces / "pd_obama_blueroom_2010.jpg").convert("RGB")
    result = encode_training(source, long_side=1024, max_bytes=1_000_000, min_ssim=0.97)
    decoded = Image.open(io.BytesIO(result.jpeg))
    reference = source.resize(decoded.size, Image.Resampling.LANCZOS).convert("L")
    assert ssim(np.asarray(reference), np.asarray(decoded.convert("L"))) >= 0.97
    assert len(result.jpeg) < 1_000_000 and max(decoded.size) == 1024


def test_training_crops_keep_head_and_shoulders(outcomes: dict[str, PhotoOutcome]) -> None:
    for outcome in outcomes.values():
        if outcome.training_jpeg is None:
            continue
        image = Image.open(io.BytesIO(outcome.training_jpeg))
        assert len(outcome.training_jpeg) < 1_000_000
        assert max(image.size) <= 1024
        assert image.width == image.height  # square head-and-shoulders crop
