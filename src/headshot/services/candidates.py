"""The best candidates of one look: each generated image scored once (`Likeness.candidate`), then
culled (`domain.culling.pick`). Shared by the generation store and `headshot run`, so the web app
and the command line keep the same headshots from the same candidates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from headshot.domain.culling import pick
from headshot.engines.protocol import GeneratedImage
from headshot.services.engines import Likeness


@dataclass(frozen=True)
class Kept:
    image: GeneratedImage
    likeness: float | None


def best_candidates(
    likeness: Likeness,
    images: Sequence[GeneratedImage],
    references: Sequence[Sequence[float]],
    *,
    keep: int,
) -> list[Kept]:
    """The best `keep` of `images`, best first; the others are simply not returned (nothing of
    them is written anywhere)."""
    candidates = [
        likeness.candidate(
            str(number),
            image.image,
            references,
            edge_deviation=image.metrics.get("edge_deviation"),
        )
        for number, image in enumerate(images)
    ]
    chosen = pick(candidates, keep=keep)
    scores = {c.id: c.likeness for c in candidates}
    return [Kept(images[int(number)], scores[number]) for number in chosen.kept]
