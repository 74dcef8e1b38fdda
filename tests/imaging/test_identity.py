"""SFace separates different people and keeps the same person together (threshold calibration)."""

from __future__ import annotations

import itertools

import pytest

from headshot.imaging.identity import cosine
from headshot.imaging.pipeline import PhotoOutcome
from headshot.imaging.thresholds import ValidationThresholds

PEOPLE = {
    "obama": [
        "pd_obama_portrait_2012.jpg",
        "pd_obama_congress_2009.jpg",
        "pd_obama_blueroom_2010.jpg",
    ],
    "biden": ["pd_biden_blueroom_2010.jpg", "d_biden_1024.heic"],
    "hopper": ["pd_grace_hopper.jpg"],
    "collins": ["pd_astronaut_collins.jpg"],
}
LIMIT = ValidationThresholds().identity_cosine


def _embedding(outcomes: dict[str, PhotoOutcome], name: str) -> tuple[float, ...]:
    member = outcomes[name].member
    assert member is not None, name
    return member.embedding


def test_embeddings_are_unit_length(outcomes: dict[str, PhotoOutcome]) -> None:
    vector = _embedding(outcomes, "pd_grace_hopper.jpg")
    assert len(vector) == 128
    assert sum(v * v for v in vector) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(PEOPLE, 2)))
def test_different_people_are_apart(a: str, b: str, outcomes: dict[str, PhotoOutcome]) -> None:
    for x, y in itertools.product(PEOPLE[a], PEOPLE[b]):
        score = cosine(_embedding(outcomes, x), _embedding(outcomes, y))
        assert score < LIMIT - 0.05, (x, y, score)


@pytest.mark.parametrize("person", ["obama", "biden"])
def test_same_person_is_together(person: str, outcomes: dict[str, PhotoOutcome]) -> None:
    for x, y in itertools.combinations(PEOPLE[person], 2):
        score = cosine(_embedding(outcomes, x), _embedding(outcomes, y))
        assert score > LIMIT + 0.2, (x, y, score)
