"""Imaging fixtures: the shared face photos, one validator (models load once per session), and
every test photo analysed once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headshot.imaging.models import FaceModels
from headshot.imaging.pipeline import PhotoOutcome, PhotoValidator
from headshot.imaging.thresholds import ValidationThresholds

REPO = Path(__file__).resolve().parents[2]


def faces_dir() -> Path:
    """`HEADSHOT_TESTDATA` when set, else `<repo>/../shared/testdata`; the faces are under it."""
    root = Path(os.environ.get("HEADSHOT_TESTDATA", REPO.parent / "shared" / "testdata"))
    return root / "faces" if (root / "faces").is_dir() else root


@pytest.fixture(scope="session")
def faces() -> Path:
    folder = faces_dir()
    if not folder.is_dir():
        pytest.skip(f"test photos not found at {folder.name}; set HEADSHOT_TESTDATA")
    return folder


@pytest.fixture(scope="session")
def validator() -> PhotoValidator:
    return PhotoValidator(ValidationThresholds(), models=FaceModels())


@pytest.fixture(scope="session")
def outcomes(faces: Path, validator: PhotoValidator) -> dict[str, PhotoOutcome]:
    """Every test photo analysed once, by file name."""
    return {
        p.name: validator.analyze(p.read_bytes(), filename=p.name, photo_id=p.name)
        for p in sorted(faces.iterdir())
        if p.suffix.lower() in {".jpg", ".png", ".heic"}
    }
