"""Headshot-suitability ranking: a pure function over measured traits."""

from __future__ import annotations

from dataclasses import replace

from headshot.imaging.ranking import (
    HeadshotTraits,
    choose_sources,
    headshot_suitability,
    rank,
    suitable,
)
from headshot.imaging.thresholds import ValidationThresholds

LIMITS = ValidationThresholds()
GOOD = HeadshotTraits(
    yaw=3.0,
    pitch=-2.0,
    gaze=2.0,
    mouth_open=0.02,
    smile=0.0,
    occlusion=0.02,
    sharpness=2000.0,
    face_luma=130.0,
)
FLAWS = {
    "speaking": replace(GOOD, mouth_open=0.45),
    "looking away": replace(GOOD, gaze=35.0),
    "from below": replace(GOOD, pitch=28.0),
    "microphone": replace(GOOD, occlusion=0.5),
    "turned": replace(GOOD, yaw=25.0),
    "soft": replace(GOOD, sharpness=1150.0),
    "dim": replace(GOOD, face_luma=70.0),
}


def test_every_flaw_ranks_below_a_good_photo() -> None:
    best = headshot_suitability(GOOD, LIMITS)
    assert 0 < best <= 1
    for name, traits in FLAWS.items():
        assert headshot_suitability(traits, LIMITS) < best, name


def test_a_smile_with_parted_lips_is_not_speaking() -> None:
    smiling = replace(GOOD, mouth_open=0.45, smile=0.08)
    assert suitable(smiling, LIMITS)
    assert headshot_suitability(smiling, LIMITS) == headshot_suitability(GOOD, LIMITS)
    assert not suitable(FLAWS["speaking"], LIMITS)


def test_lips_parted_mid_word_rank_below_a_closed_mouth() -> None:
    """Below the `mouth` warning, a frame caught mid-word is still a weaker headshot source."""
    mid_word = replace(GOOD, mouth_open=0.2)
    assert suitable(mid_word, LIMITS)
    closed, parted = (headshot_suitability(t, LIMITS) for t in (GOOD, mid_word))
    assert parted < closed
    assert headshot_suitability(FLAWS["speaking"], LIMITS) < parted


def test_rank_is_best_first_and_stable() -> None:
    items = ["speaking", "good-a", "looking away", "good-b"]
    traits = {**FLAWS, "good-a": GOOD, "good-b": GOOD}
    ranked = rank(items, traits.__getitem__, LIMITS)
    assert ranked[:2] == ["good-a", "good-b"]
    assert set(ranked[2:]) == {"speaking", "looking away"}


def test_sources_leave_out_unsuitable_photos_unless_too_few_remain() -> None:
    traits = {f"good-{i}": replace(GOOD, yaw=float(i)) for i in range(4)} | FLAWS
    names = list(traits)
    chosen = choose_sources(names, traits.__getitem__, LIMITS, minimum=3)
    # "turned", "soft" and "dim" carry no warning: they stay, ranked after the good ones.
    assert set(chosen) == {"good-0", "good-1", "good-2", "good-3", "turned", "soft", "dim"}
    topped_up = choose_sources(names, traits.__getitem__, LIMITS, minimum=9)
    assert len(topped_up) == 9 and topped_up[0] == "good-0"
    assert set(topped_up) > set(chosen)
