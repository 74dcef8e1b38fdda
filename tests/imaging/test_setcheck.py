"""Set checks on synthetic members and on the real test photos."""

from __future__ import annotations

import numpy as np

from headshot.domain.validation import SetMember
from headshot.imaging.pipeline import PhotoOutcome
from headshot.imaging.setcheck import assess_set
from headshot.imaging.thresholds import ValidationThresholds

LIMITS = ValidationThresholds()


def person(seed: int, *, jitter: float = 0.0, index: int = 0) -> tuple[float, ...]:
    """A unit vector per person plus noise of norm `jitter` per photo: two photos of one person
    then have a cosine of about 1 / (1 + jitter**2)."""
    base = np.random.default_rng(seed).normal(size=128)
    noise = np.random.default_rng(1000 + index).normal(size=128)
    vector = base / np.linalg.norm(base) + jitter * noise / np.linalg.norm(noise)
    return tuple(float(v) for v in vector / np.linalg.norm(vector))


def member(
    index: int,
    *,
    yaw: float = 0.0,
    pitch: float = 0.0,
    smile: float = 0.0,
    who: int = 1,
    phash: str | None = None,
    quality: float = 2.0,
) -> SetMember:
    return SetMember(
        photo_id=f"p{index}",
        filename=f"selfie_{index}.jpg",
        yaw=yaw,
        pitch=pitch,
        roll=0.0,
        smile=smile,
        mouth_width=0.6,
        mouth_open=0.1,
        eye_openness=0.25,
        quality=quality,
        embedding=person(who, jitter=0.7, index=index),
        phash=phash or f"{(index * 0x9E3779B97F4A7C15) % (1 << 64):016x}",
    )


def good_set(n: int = 10) -> list[SetMember]:
    yaws = [-20, -12, -5, 0, 0, 5, 12, 20, 8, -8, 15, -15]
    pitches = [-8, 0, 6, -4, 4, 0, -6, 8, 2, -2, 5, -5]
    return [
        member(i, yaw=yaws[i], pitch=pitches[i], smile=0.08 if i % 2 else 0.0) for i in range(n)
    ]


def test_a_varied_set_of_ten_is_ready() -> None:
    report = assess_set(good_set(), LIMITS)
    assert report.ready
    assert report.accepted_count == 10
    assert report.findings == ()
    assert report.diversity["expressions"] == {"neutral": 5, "smiling": 5, "other": 0}


def test_too_few_photos() -> None:
    report = assess_set(good_set(7), LIMITS)
    assert not report.ready
    count = next(f for f in report.findings if f.code == "count")
    assert (count.value, count.threshold) == (7.0, 10.0)
    assert "3 more photos" in count.tip


def test_pose_guidance_names_the_missing_side() -> None:
    members = [member(i, yaw=float(i % 3) * 5, pitch=float(i % 4) * 4) for i in range(10)]
    report = assess_set(members, LIMITS)
    pose = next(f for f in report.findings if f.code == "pose_diversity")
    assert pose.severity == "warning"
    assert "looking to your right" in pose.tip
    assert report.ready  # diversity is advice, not a blocker


def test_expression_guidance() -> None:
    members = [member(i, yaw=g.yaw, pitch=g.pitch, smile=0.0) for i, g in enumerate(good_set())]
    finding = next(
        f for f in assess_set(members, LIMITS).findings if f.code == "expression_diversity"
    )
    assert "smile" in finding.tip


def test_duplicates_keep_the_better_photo() -> None:
    members = good_set()
    twin = member(
        99, yaw=members[3].yaw, pitch=members[3].pitch, phash=members[3].phash, quality=1.0
    )
    report = assess_set([*members, twin], LIMITS)
    assert report.rejected_ids == ("p99",)
    assert report.member_findings["p99"][0].code == "duplicate"
    assert report.accepted_count == 10


def test_someone_else_is_rejected() -> None:
    stranger = member(50, who=2)
    report = assess_set([*good_set(), stranger], LIMITS)
    assert report.rejected_ids == ("p50",)
    finding = report.member_findings["p50"][0]
    assert finding.code == "identity" and "selfie_50.jpg" in finding.message
    assert not report.ready  # held back until the person removes or leaves out that photo
    assert assess_set(good_set(), LIMITS).ready


def test_set_findings_name_their_photos() -> None:
    members = good_set()
    twin = member(
        99, yaw=members[3].yaw, pitch=members[3].pitch, phash=members[3].phash, quality=1.0
    )
    report = assess_set([*members, twin, member(50, who=2)], LIMITS)
    named = {f.code: f.photo_ids for f in report.findings if f.photo_ids}
    # Only the photo to replace: the kept twin (p3) is not named.
    assert named == {"duplicate": ("p99",), "identity": ("p50",)}
    body = report.to_dict()
    # In the JSON every set finding carries the list, empty when no photo in particular.
    assert all(isinstance(f["photo_ids"], list) for f in body["findings"])
    assert sorted(i for f in body["findings"] for i in f["photo_ids"]) == ["p50", "p99"]
    too_few = assess_set(good_set(3), LIMITS).to_dict()["findings"]
    assert next(f for f in too_few if f["code"] == "count")["photo_ids"] == []


def test_member_json_round_trip() -> None:
    original = good_set(1)[0]
    assert SetMember.from_dict(original.to_dict()) == original
    assert original.with_id("x").photo_id == "x"


def test_real_photos(outcomes: dict[str, PhotoOutcome]) -> None:
    members = [o.member for o in outcomes.values() if o.member is not None]
    report = assess_set(members, LIMITS)
    rejected = set(report.rejected_ids)
    # Other people than the majority (Obama) are rejected ...
    assert {"pd_grace_hopper.jpg", "pd_astronaut_collins.jpg", "d_biden_1024.heic"} <= rejected
    # ... and the copies of portrait_2012 are flagged as duplicates, the original kept.
    copies = {"d_obama_dup_q40.jpg", "d_obama_dup_crop_resize.jpg", "d_obama_mirror.jpg"}
    assert copies <= rejected
    assert all(report.member_findings[c][0].code == "duplicate" for c in copies)
    assert "pd_obama_portrait_2012.jpg" not in rejected
    assert {"pd_obama_congress_2009.jpg", "pd_obama_blueroom_2010.jpg"}.isdisjoint(rejected)
    assert not report.ready
