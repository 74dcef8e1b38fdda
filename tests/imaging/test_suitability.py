"""Headshot-suitability checks and the fairness of the sharpness and face-count checks, on real
photos and on copies of them altered in known ways (tests/imaging/synthetic.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from headshot.domain.validation import Finding, PhotoReport
from headshot.imaging.pipeline import PhotoValidator
from tests.imaging import synthetic as syn

PORTRAIT = "pd_obama_2012_portrait.jpg"


def report_of(validator: PhotoValidator, image: Image.Image) -> PhotoReport:
    return validator.analyze(syn.jpeg_bytes(image), filename="x.jpg").report


def finding(report: PhotoReport, code: str) -> Finding | None:
    return next((f for f in report.findings if f.code == code), None)


def load(folder: Path, name: str) -> Image.Image:
    return Image.open(folder / name).convert("RGB")


@pytest.mark.parametrize("name", [PORTRAIT, "pd_obama_wa05_plant-bookcase-red-tie.jpg"])
def test_something_over_the_mouth_is_an_occluder_error(
    validator: PhotoValidator, person: Path, name: str
) -> None:
    image = load(person, name)
    assert finding(report_of(validator, image), "occluder") is None
    face = syn.locate(image, validator.models)
    for covered in (syn.microphone(image, face), syn.hand(image, face)):
        report = report_of(validator, covered)
        found = finding(report, "occluder")
        assert found is not None and found.severity == "error", report.findings
        assert not report.accepted
        assert found.value is not None and found.tip.endswith(".")


def test_a_speaking_frame_gets_the_mouth_warning(validator: PhotoValidator, person: Path) -> None:
    # A frame of a weekly address, mid-sentence; the 2012 portrait smiles with parted lips.
    speaking = report_of(validator, load(person, "pd_obama_wa02_striped-shirt.jpg"))
    mouth = finding(speaking, "mouth")
    assert mouth is not None and mouth.severity == "warning" and speaking.accepted
    assert finding(report_of(validator, load(person, PORTRAIT)), "mouth") is None


def test_looking_away_and_a_high_camera_are_warnings(
    validator: PhotoValidator, person: Path
) -> None:
    # Signing a letter: head down and turned, eyes on the desk.
    signing = report_of(validator, load(person, "pd_obama_2016_oval-office-signing.jpg"))
    codes = {f.code: f.severity for f in signing.findings}
    assert codes.get("gaze") == "warning" and codes.get("camera_angle") == "warning"
    portrait = report_of(validator, load(person, PORTRAIT))
    assert {"gaze", "camera_angle"}.isdisjoint(f.code for f in portrait.findings)


def test_beauty_mode_smoothing_is_a_filter_warning(validator: PhotoValidator, person: Path) -> None:
    image = load(person, PORTRAIT)
    smoothed = syn.beauty_filter(image, syn.locate(image, validator.models))
    found = finding(report_of(validator, smoothed), "filter")
    assert found is not None and found.severity == "warning"
    assert finding(report_of(validator, image), "filter") is None


@pytest.mark.parametrize("name", [PORTRAIT, "pd_obama_wa12_closeup-grey-tie.jpg"])
def test_sharpness_verdict_does_not_depend_on_pixel_size(
    validator: PhotoValidator, person: Path, name: str
) -> None:
    image = load(person, name)
    small, large = syn.fit(image, (600, 800)), syn.fit(image, (4000, 3000))
    crisp = [report_of(validator, im) for im in (small, large)]
    assert [finding(r, "sharpness") for r in crisp] == [None, None]
    values = [float(r.metrics["sharpness"] or 0) for r in crisp]
    assert max(values) / min(values) < 1.5, values
    eye_distance = syn.locate(image, validator.models).eye_distance
    blurred = syn.gaussian_blur(image, 0.05 * eye_distance)
    soft = [report_of(validator, syn.fit(blurred, size)) for size in ((600, 800), (4000, 3000))]
    assert all(finding(r, "sharpness") is not None for r in soft)


def test_noise_and_jpeg_blocking_do_not_hide_blur(validator: PhotoValidator, person: Path) -> None:
    image = load(person, PORTRAIT)
    blurred = syn.gaussian_blur(image, 0.05 * syn.locate(image, validator.models).eye_distance)
    for disguised in (syn.noise(blurred, 10), syn.jpeg(blurred, 12)):
        assert finding(report_of(validator, disguised), "sharpness") is not None
    for benign in (syn.noise(image, 10), syn.jpeg(image, 25)):
        assert finding(report_of(validator, benign), "sharpness") is None


# (photo, poster, poster face over the person's face width). Each poster is detected as a face
# (which made "2 faces" before): the first three are under half the person's face width, the
# last one is larger but detected with low confidence (a printed face in shadow).
POSTERS = [
    ("pd_obama_wa04_purple-flowers.jpg", "pd_biden_blueroom_2010.jpg", 0.45),
    ("pd_obama_wa04_purple-flowers.jpg", "pd_grace_hopper.jpg", 0.35),
    (PORTRAIT, "pd_biden_blueroom_2010.jpg", 0.45),
    (PORTRAIT, "pd_grace_hopper.jpg", 0.45),
]


@pytest.mark.parametrize(("name", "other_name", "share"), POSTERS)
def test_a_poster_behind_the_person_is_not_a_second_face(
    validator: PhotoValidator, person: Path, faces: Path, name: str, other_name: str, share: float
) -> None:
    image, other = load(person, name), load(faces, other_name)
    face, other_face = syn.locate(image, validator.models), syn.locate(other, validator.models)
    report = report_of(validator, syn.poster(image, face, other, other_face, share=share))
    assert report.face_count == 1 and report.accepted, report.findings
    assert report.metrics["background_faces"] == 1  # seen, and set aside
