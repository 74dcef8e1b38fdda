"""Culling: a generation makes more candidates than it shows and keeps the best. Each candidate
arrives with its measurements (likeness to the person's training photos, whether a face and
open eyes were found, whether mouth and eyes suit a headshot, the studio's edge deviation, a
near-duplicate signature); `cull` ranks them and keeps the best `keep`, never two near-duplicates;
`pick` tops that up from the rest so a generation still shows what was asked. Pure: no I/O, no
models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CullCandidate:
    id: str
    likeness: float | None  # identity cosine to the training photos; None when no face was found
    eyes_open: bool
    signature: tuple[float, ...]  # e.g. the face's identity embedding: a high cosine is one shot
    edge_deviation: float | None = (
        None  # studio only: 0..255 levels along the outline, lower is cleaner
    )
    # The face's expression, from the same face analysis (a frame caught mid-word, or looking
    # away, makes a weak headshot even when the likeness is high): lip gap over mouth width,
    # mouth-corner lift over eye distance, eyes' turn from the camera in degrees.
    mouth_open: float = 0.0
    smile: float = 0.0
    gaze: float = 0.0


@dataclass(frozen=True)
class CullPolicy:
    # Similarity of signatures from which two candidates are the same shot. With identity
    # embeddings of studio headshots, measured: two crops of one photo 0.98-0.99, two photos of
    # one person at most 0.87.
    duplicate_cosine: float = 0.95
    # Likeness lost per level of edge deviation: a visible halo (~10 levels) costs about as
    # much as a clearly weaker likeness (0.05).
    edge_cost: float = 0.005
    # A mouth open wider than this without a smile reads as speaking. Stricter than the photo
    # checks' warning (0.3): measured on studio headshots of the person set, a closed mouth
    # 0.02, frames from speeches 0.15-0.21, which look mid-word on the contact sheet.
    closed_mouth: float = 0.12
    smile_lift: float = 0.05  # a smile (teeth showing is fine)
    max_gaze: float = 20.0  # degrees, as the photo checks
    # Likeness lost by a face not ready for a headshot: more than the spread of likeness among
    # the person's good photos (0.86-0.90 measured), so a ready face of the same person wins.
    unready_cost: float = 0.08


@dataclass(frozen=True)
class Culled:
    kept: tuple[str, ...]  # best first
    discarded: tuple[str, ...]


def quality(candidate: CullCandidate, policy: CullPolicy) -> float:
    """The ranking score: likeness, less the cost of a poor cut-out edge and of a face not
    ready for a headshot."""
    assert candidate.likeness is not None
    edge = candidate.edge_deviation or 0.0
    unready = 0.0 if headshot_ready(candidate, policy) else policy.unready_cost
    return candidate.likeness - policy.edge_cost * edge - unready


def headshot_ready(candidate: CullCandidate, policy: CullPolicy) -> bool:
    """Mouth closed or smiling, eyes towards the camera."""
    mouth = candidate.mouth_open <= policy.closed_mouth or candidate.smile >= policy.smile_lift
    return mouth and abs(candidate.gaze) <= policy.max_gaze


def usable(candidate: CullCandidate) -> bool:
    """A headshot without a detectable face or with closed eyes is never shown."""
    return candidate.likeness is not None and candidate.eyes_open


def cull(
    candidates: Sequence[CullCandidate], *, keep: int, policy: CullPolicy | None = None
) -> Culled:
    """The best `keep` usable candidates with no near-duplicate among them, best first; all
    others are discarded. Fewer are kept when fewer qualify. Ties go to the earlier id."""
    rules = policy or CullPolicy()
    ranked = sorted((c for c in candidates if usable(c)), key=lambda c: (-quality(c, rules), c.id))
    kept: list[CullCandidate] = []
    for candidate in ranked:
        if len(kept) == keep:
            break
        if not any(similar(candidate, other, rules) for other in kept):
            kept.append(candidate)
    chosen = {c.id for c in kept}
    return Culled(
        kept=tuple(c.id for c in kept),
        discarded=tuple(c.id for c in candidates if c.id not in chosen),
    )


def pick(
    candidates: Sequence[CullCandidate], *, keep: int, policy: CullPolicy | None = None
) -> Culled:
    """`cull`, then topped up to `keep` (when there are that many candidates) from the
    discarded ones, best first: usable near-duplicates before faceless or closed-eye images, so
    a generation shows as many images as were asked and the weak ones stay flagged."""
    rules = policy or CullPolicy()
    culled = cull(candidates, keep=keep, policy=rules)
    missing = keep - len(culled.kept)
    if missing <= 0:
        return culled
    rest = sorted(
        (c for c in candidates if c.id in set(culled.discarded)),
        key=lambda c: (not usable(c), -_top_up_score(c, rules), c.id),
    )
    extra = tuple(c.id for c in rest[:missing])
    return Culled(
        kept=culled.kept + extra,
        discarded=tuple(i for i in culled.discarded if i not in set(extra)),
    )


def _top_up_score(candidate: CullCandidate, policy: CullPolicy) -> float:
    if usable(candidate):
        return quality(candidate, policy)
    return candidate.likeness if candidate.likeness is not None else -2.0


def similar(a: CullCandidate, b: CullCandidate, policy: CullPolicy) -> bool:
    return cosine(a.signature, b.signature) >= policy.duplicate_cosine


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError("signatures of different lengths cannot be compared")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms > 0 else 0.0
