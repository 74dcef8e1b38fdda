"""Culling on real pictures: `ImagingLikeness.candidate` measures a generated image once
(likeness, open eyes, identity signature) and `cull` keeps the best, never a picture without a
face and never the same shot twice."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from headshot.domain.culling import cull
from headshot.imaging.models import FaceModels
from headshot.imaging.pipeline import PhotoValidator
from headshot.imaging.thresholds import ValidationThresholds
from headshot.services.analysis import ImagingLikeness

PERSON = "pd_obama_portrait_2012.jpg"
REFERENCES = ("pd_obama_blueroom_2010.jpg", "pd_obama_congress_2009.jpg")


@pytest.fixture(scope="module")
def likeness() -> ImagingLikeness:
    return ImagingLikeness(PhotoValidator(ValidationThresholds(), models=FaceModels()))


def slightly_zoomed(jpeg: bytes) -> bytes:
    with Image.open(io.BytesIO(jpeg)) as image:
        width, height = image.size
        crop = image.convert("RGB").crop((8, 10, width - 8, height - 10)).resize((width, height))
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_candidates_are_measured_and_culled(likeness: ImagingLikeness, testdata: Path) -> None:
    references = []
    for name in REFERENCES:
        found = likeness.embedding((testdata / name).read_bytes())
        assert found is not None
        references.append(found)
    person = (testdata / PERSON).read_bytes()
    best = likeness.candidate("best", person, references, edge_deviation=5.0)
    assert best.likeness is not None and best.likeness > 0.4 and best.eyes_open
    copy = likeness.candidate("copy", slightly_zoomed(person), references, edge_deviation=5.0)
    cat = likeness.candidate("cat", (testdata / "cc0_chelsea_cat.jpg").read_bytes(), references)
    assert cat.likeness is None and not cat.eyes_open

    culled = cull([cat, copy, best], keep=2)
    assert len(culled.kept) == 1 and culled.kept[0] in {"best", "copy"}
    assert set(culled.discarded) == {"cat", "best", "copy"} - set(culled.kept)
