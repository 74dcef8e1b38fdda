"""Culling keeps the best candidates: ranked by likeness less the cost of a poor cut-out edge,
never one without a face or with closed eyes, never two near-duplicates."""

from __future__ import annotations

import math

import pytest

from headshot.domain.culling import CullCandidate, CullPolicy, cosine, cull, pick, quality


def unit(angle_degrees: float) -> tuple[float, float]:
    """A 2-D signature: candidates whose angles differ by little are the same picture."""
    radians = math.radians(angle_degrees)
    return (math.cos(radians), math.sin(radians))


def candidate(
    id: str,
    likeness: float | None,
    *,
    angle: float,
    eyes_open: bool = True,
    edge: float | None = None,
) -> CullCandidate:
    return CullCandidate(id, likeness, eyes_open, unit(angle), edge_deviation=edge)


def test_the_kept_ones_are_the_best() -> None:
    likeness = {"a": 0.61, "b": 0.83, "c": 0.72, "d": 0.55, "e": 0.79, "f": 0.68}
    pool = [candidate(i, s, angle=40.0 * n) for n, (i, s) in enumerate(likeness.items())]
    culled = cull(pool, keep=3)
    assert culled.kept == ("b", "e", "c")
    assert set(culled.discarded) == {"a", "d", "f"}
    best_discarded = max(likeness[i] for i in culled.discarded)
    assert all(likeness[i] > best_discarded for i in culled.kept)


def test_a_near_duplicate_of_a_kept_one_gives_way_to_the_next_best() -> None:
    pool = [
        candidate("best", 0.90, angle=0.0),
        candidate("same-picture", 0.89, angle=3.0),  # cosine 0.9986
        candidate("other", 0.70, angle=60.0),
    ]
    assert cull(pool, keep=2).kept == ("best", "other")
    assert cosine(unit(0.0), unit(3.0)) >= CullPolicy().duplicate_cosine
    assert cosine(unit(0.0), unit(60.0)) < CullPolicy().duplicate_cosine


def test_no_face_or_closed_eyes_is_never_kept_even_when_short() -> None:
    pool = [
        candidate("faceless", None, angle=0.0),
        candidate("blink", 0.95, angle=50.0, eyes_open=False),
        candidate("fine", 0.60, angle=100.0),
    ]
    culled = cull(pool, keep=3)
    assert culled.kept == ("fine",)
    assert culled.discarded == ("faceless", "blink")


def test_a_poor_edge_costs_rank() -> None:
    clean = candidate("clean", 0.80, angle=0.0, edge=4.0)
    haloed = candidate("haloed", 0.82, angle=90.0, edge=20.0)
    assert quality(clean, CullPolicy()) > quality(haloed, CullPolicy())
    assert cull([haloed, clean], keep=1).kept == ("clean",)
    # Without an edge cost, likeness alone decides.
    assert cull([haloed, clean], keep=1, policy=CullPolicy(edge_cost=0.0)).kept == ("haloed",)


def test_ties_go_to_the_earlier_id_and_order_does_not_matter() -> None:
    pool = [candidate(i, 0.7, angle=30.0 * n) for n, i in enumerate("dcba")]
    assert cull(pool, keep=2).kept == ("a", "b")
    assert cull(list(reversed(pool)), keep=2).kept == ("a", "b")


def test_keep_zero_discards_everything() -> None:
    pool = [candidate("a", 0.9, angle=0.0), candidate("b", 0.8, angle=90.0)]
    assert cull(pool, keep=0).kept == ()
    assert cull(pool, keep=0).discarded == ("a", "b")


def test_signatures_must_match_in_length() -> None:
    with pytest.raises(ValueError):
        cosine((1.0, 0.0), (1.0, 0.0, 0.0))


def test_a_face_caught_mid_word_or_looking_away_gives_way_to_a_ready_one() -> None:
    # Measured on the person set: a closed mouth 0.02, frames from speeches 0.15-0.21.
    speaking = CullCandidate("speaking", 0.90, True, unit(0.0), mouth_open=0.21)
    smiling = CullCandidate("smiling", 0.86, True, unit(40.0), mouth_open=0.21, smile=0.08)
    away = CullCandidate("away", 0.90, True, unit(80.0), gaze=25.0)
    closed = CullCandidate("closed", 0.87, True, unit(120.0), mouth_open=0.02)
    assert cull([speaking, smiling, away, closed], keep=2).kept == ("closed", "smiling")


def test_pick_tops_up_from_the_rest_so_a_generation_shows_what_was_asked() -> None:
    pool = [
        candidate("best", 0.90, angle=0.0),
        candidate("same-picture", 0.89, angle=3.0),
        candidate("blink", 0.95, angle=60.0, eyes_open=False),
        candidate("faceless", None, angle=120.0),
    ]
    assert cull(pool, keep=3).kept == ("best",)
    picked = pick(pool, keep=3)
    # A usable near-duplicate first, then the closed eyes; the faceless one stays out.
    assert picked.kept == ("best", "same-picture", "blink")
    assert picked.discarded == ("faceless",)
