"""The speed-ups of the pipeline keep its results: banded SSIM, the resize, the 2x reduction, the
late SFace embedding and mediapipe's import without matplotlib (docs/validation.md, Benchmark)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from headshot.imaging.analysis import analysis_pixels, analyze_image, with_embedding
from headshot.imaging.compress import resize_long_side, ssim
from headshot.imaging.decode import decode
from headshot.imaging.models import FaceModels
from headshot.imaging.mpimport import CHECKED_VERSION
from headshot.imaging.pipeline import PhotoValidator
from headshot.imaging.thresholds import ValidationThresholds

LIMITS = {"max_pixels": 60_000_000, "max_side": 20_000}


def _whole_image_ssim(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """The textbook formula on the whole image in float64, as a reference."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(cv2.blur(img, (7, 7)), dtype=np.float64)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * cxy + c2)
    return float(np.mean(num / ((mx * mx + my * my + c1) * (vx + vy + c2))))


@pytest.mark.parametrize("shape", [(5, 9), (64, 64), (65, 31), (130, 257), (300, 120)])
def test_banded_ssim_equals_the_whole_image_formula(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    noise = rng.integers(-12, 13, shape)
    b = np.clip(a.astype(int) + noise, 0, 255).astype(np.uint8)
    assert ssim(a, b) == pytest.approx(_whole_image_ssim(a, b), abs=2e-5)


@pytest.mark.parametrize("ratio", [1.3, 1.8, 2.5])
def test_resize_stays_close_to_lanczos(faces: Path, ratio: float) -> None:
    source = Image.open(faces / "pd_obama_blueroom_2010.jpg").convert("RGB")
    long_side = round(max(source.size) / ratio)
    small = resize_long_side(np.asarray(source), long_side)
    assert max(small.shape[:2]) == long_side and small.flags.c_contiguous
    lanczos = source.resize((small.shape[1], small.shape[0]), Image.Resampling.LANCZOS)
    gray = np.asarray(Image.fromarray(small).convert("L"))
    assert ssim(gray, np.asarray(lanczos.convert("L"))) >= 0.99


def test_resize_never_enlarges() -> None:
    pixels = np.zeros((100, 80, 3), dtype=np.uint8)
    assert resize_long_side(pixels, 200) is pixels


def test_half_reduction_equals_pillow() -> None:
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 256, (1500, 2000, 3), dtype=np.uint8))
    out = io.BytesIO()
    image.save(out, format="PNG")
    decoded = decode(out.getvalue(), **LIMITS)
    reduced = analysis_pixels(decoded, 1024)
    assert np.array_equal(reduced, np.asarray(decoded.image.reduce(2)))


def test_late_embedding_equals_the_inline_one(faces: Path, validator: PhotoValidator) -> None:
    decoded = decode((faces / "pd_obama_portrait_2012.jpg").read_bytes(), **LIMITS)
    models = validator.models
    inline = analyze_image(decoded, models, long_side=1024, other_face_ratio=0.35)
    late = analyze_image(decoded, models, long_side=1024, other_face_ratio=0.35, embedding=False)
    assert late.face is not None and late.face.embedding == ()
    assert inline.face is not None and len(inline.face.embedding) == 128
    filled = with_embedding(late, inline.face.embedding)
    assert filled.face is not None and filled.face.embedding == inline.face.embedding
    assert filled.face.sharpness == inline.face.sharpness and filled.phash == inline.phash


def test_mediapipe_release_is_the_checked_one() -> None:
    # mpimport's matplotlib stand-in is safe only for the sources read for this release: on an
    # upgrade, re-read mediapipe/python/solutions/drawing_utils.py and bump CHECKED_VERSION.
    assert version("mediapipe") == CHECKED_VERSION


def test_mediapipe_loads_without_matplotlib() -> None:
    code = (
        "import sys; from headshot.imaging.models import FaceModels; FaceModels().warm();"
        "print(any(m.startswith('matplotlib') for m in sys.modules));"
        "import matplotlib.pyplot as plt; print(callable(plt.figure))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_helper_thread_survives_a_fork() -> None:
    validator = PhotoValidator(ValidationThresholds(), models=FaceModels())
    assert validator._helper().submit(int, "1").result(timeout=10) == 1
    pid = os.fork()
    if pid == 0:  # the child: the inherited executor has no thread, a new one must be made
        code = 1
        try:
            code = 0 if validator._helper().submit(int, "2").result(timeout=10) == 2 else 1
        finally:
            os._exit(code)  # never back into pytest from the child
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
