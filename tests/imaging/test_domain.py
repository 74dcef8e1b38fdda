"""The JSON shapes of API.md, the thresholds' documentation and lazy model loading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from headshot.domain.validation import Finding, PhotoReport, SetReport
from headshot.imaging.models import PINNED_SHA256, ModelIntegrityError, verified_path
from headshot.imaging.thresholds import ValidationThresholds

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_photo_report_shape() -> None:
    finding = Finding("sharpness", "error", "Blurry.", "Hold still.", 12.5, 420.0)
    report = PhotoReport("a.jpg", False, 1, (finding,), {"sharpness": 12.5}, 640, 480)
    assert report.to_dict() == {
        "filename": "a.jpg",
        "accepted": False,
        "face_count": 1,
        "findings": [
            {
                "code": "sharpness",
                "severity": "error",
                "message": "Blurry.",
                "tip": "Hold still.",
                "value": 12.5,
                "threshold": 420.0,
            }
        ],
        "metrics": {"sharpness": 12.5},
        "width": 640,
        "height": 480,
    }
    assert "stored_bytes" in PhotoReport("a", True, 1, (), {}, 1, 1, stored_bytes=5).to_dict()
    assert "value" not in Finding("count", "warning", "m.", "t.").to_dict()


def test_set_report_shape() -> None:
    report = SetReport(True, 10, 10, (), {"yaw_spread": 30.0}, rejected_ids=("x",))
    assert set(report.to_dict()) == {
        "ready",
        "accepted_count",
        "required_count",
        "findings",
        "diversity",
    }


def test_every_threshold_is_described_and_documented() -> None:
    text = (DOCS / "validation.md").read_text()
    for name, field in ValidationThresholds.model_fields.items():
        assert field.description, name
        assert f"`{name}`" in text, name


def test_model_digests_are_checked(tmp_path: Path) -> None:
    name = next(iter(PINNED_SHA256))
    (tmp_path / name).write_bytes(b"tampered")
    with pytest.raises(ModelIntegrityError):
        verified_path(tmp_path, name)
    with pytest.raises(ModelIntegrityError):
        verified_path(tmp_path / "absent", name)


def test_importing_imaging_loads_no_heavy_module() -> None:
    code = (
        "import sys, headshot.imaging.pipeline, headshot.cli.validate;"
        "print(sorted(m for m in ('mediapipe', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
