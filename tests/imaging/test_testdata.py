"""Every photo in testdata/faces gets the face count and the finding PROVENANCE.md expects."""

from __future__ import annotations

import pytest

from headshot.imaging.pipeline import PhotoOutcome

# file -> (faces, the error finding expected or None for "accepted"). From PROVENANCE.md;
# cut_side's half face counts as one face, cut_top's lower half as none.
EXPECTED: dict[str, tuple[int, str | None]] = {
    "pd_obama_portrait_2012.jpg": (1, None),
    "pd_obama_congress_2009.jpg": (1, None),
    "pd_biden_blueroom_2010.jpg": (1, None),
    "pd_obama_blueroom_2010.jpg": (1, None),
    "pd_grace_hopper.jpg": (1, None),
    "pd_astronaut_collins.jpg": (1, None),
    "cc0_coffee.jpg": (0, "face_count"),
    "cc0_chelsea_cat.jpg": (0, "face_count"),
    "d_obama_blur_r4.jpg": (1, "sharpness"),
    "d_obama_motion_blur.jpg": (1, "sharpness"),
    "d_obama_dark.jpg": (1, "exposure"),
    "d_obama_bright.jpg": (1, "exposure"),
    "d_hopper_dark.jpg": (1, "exposure"),
    "d_obama_tiny_120.jpg": (1, "resolution"),
    "d_obama_cut_top.jpg": (0, "face_count"),
    "d_obama_cut_side.jpg": (1, "framing"),
    "d_obama_torso_no_face.jpg": (0, "face_count"),
    "d_obama_tight_crop.jpg": (1, "framing"),
    "d_obama_eyes_occluded.jpg": (1, "eyes"),
    "d_obama_gray.jpg": (1, None),
    "d_obama_cmyk.jpg": (1, None),
    "d_obama_rgba.png": (1, None),
    "d_obama_exif_orient6.jpg": (1, None),
    "d_obama_roll_p20.jpg": (1, None),
    "d_obama_mirror.jpg": (1, None),
    "d_obama_dup_q40.jpg": (1, None),
    "d_obama_dup_crop_resize.jpg": (1, None),
    "d_two_faces_obama_biden.jpg": (2, "face_count"),
    "d_small_face_in_scene.jpg": (1, "framing"),
    "d_biden_1024.heic": (1, None),
}


def test_every_test_photo_has_an_expectation(outcomes: dict[str, PhotoOutcome]) -> None:
    assert set(outcomes) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_face_count_and_expected_finding(name: str, outcomes: dict[str, PhotoOutcome]) -> None:
    faces, code = EXPECTED[name]
    report = outcomes[name].report
    errors = {f.code for f in report.findings if f.severity == "error"}
    assert report.face_count == faces
    if code is None:
        assert report.accepted, report.findings
        assert errors == set()
    else:
        assert not report.accepted
        assert code in errors


def test_findings_carry_value_threshold_and_tip(outcomes: dict[str, PhotoOutcome]) -> None:
    for outcome in outcomes.values():
        for finding in outcome.report.findings:
            assert finding.message.endswith(".") and finding.tip.endswith(".")
            assert finding.value is not None and finding.threshold is not None
            assert "/" not in finding.message  # never a path


def test_small_face_is_also_reported_as_too_small(outcomes: dict[str, PhotoOutcome]) -> None:
    codes = {f.code for f in outcomes["d_small_face_in_scene.jpg"].report.findings}
    assert {"framing", "face_size"} <= codes


def test_exposure_direction_is_named(outcomes: dict[str, PhotoOutcome]) -> None:
    dark = next(f for f in outcomes["d_obama_dark.jpg"].report.findings if f.code == "exposure")
    bright = next(f for f in outcomes["d_obama_bright.jpg"].report.findings if f.code == "exposure")
    assert "dark" in dark.message
    assert "overexposed" in bright.message


def test_head_pose(outcomes: dict[str, PhotoOutcome]) -> None:
    portrait = outcomes["pd_obama_portrait_2012.jpg"].report.metrics
    rolled = outcomes["d_obama_roll_p20.jpg"].report.metrics
    mirrored = outcomes["d_obama_mirror.jpg"].report.metrics
    turned = outcomes["pd_obama_congress_2009.jpg"].report.metrics
    assert rolled["roll"] == pytest.approx(20, abs=3)
    assert abs(float(portrait["roll"] or 0)) < 3
    # The same photo mirrored turns the other way by the same amount; its pitch does not change.
    assert float(mirrored["yaw"] or 0) == pytest.approx(-float(portrait["yaw"] or 0), abs=2.5)
    assert float(mirrored["pitch"] or 0) == pytest.approx(float(portrait["pitch"] or 0), abs=2.5)
    assert float(turned["yaw"] or 0) < -10


def test_accepted_photos_have_members_and_training_images(
    outcomes: dict[str, PhotoOutcome],
) -> None:
    for outcome in outcomes.values():
        accepted = outcome.report.accepted
        assert (outcome.member is not None) == accepted
        assert (outcome.training_jpeg is not None) == accepted
        assert outcome.thumbnail_jpeg[:2] == b"\xff\xd8"
