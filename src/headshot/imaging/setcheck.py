"""Set checks: pure functions over the accepted photos' `SetMember`s.

Order matters: photos of someone else are removed first (identity), then near-duplicates (the
better photo of each pair stays), then the remaining photos are counted and their pose and
expression spread judged. `ready` needs enough photos to remain and no photo of someone else:
the person decides about that photo (remove it or leave it out), since training on another face is
the one mistake no headshot recovers from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from headshot.domain.validation import DiversityValue, Finding, SetMember, SetReport
from headshot.imaging.identity import cosine
from headshot.imaging.measures import hash_distance
from headshot.imaging.thresholds import ValidationThresholds


def assess_set(members: Sequence[SetMember], limits: ValidationThresholds) -> SetReport:
    per_member: dict[str, list[Finding]] = {}
    for member_id, finding in identity_outliers(members, limits) + duplicates(members, limits):
        per_member.setdefault(member_id, []).append(finding)
    kept = [m for m in members if m.photo_id not in per_member]
    findings = [f for f in (count(kept, limits), pose_diversity(kept, limits)) if f is not None]
    expression = expression_diversity(kept, limits)
    if expression is not None:
        findings.append(expression)
    findings.extend(f for fs in per_member.values() for f in fs)
    someone_else = any(f.code == "identity" for fs in per_member.values() for f in fs)
    return SetReport(
        ready=len(kept) >= limits.min_photos and not someone_else,
        accepted_count=len(kept),
        required_count=limits.min_photos,
        findings=tuple(sorted(findings, key=lambda f: f.severity != "error")),
        diversity=diversity(kept, limits),
        rejected_ids=tuple(per_member),
        member_findings={k: tuple(v) for k, v in per_member.items()},
    )


def identity_outliers(
    members: Sequence[SetMember], limits: ValidationThresholds
) -> list[tuple[str, Finding]]:
    """Photos of anyone but the majority person (the largest group of mutually similar faces)."""
    if len(members) < 2:
        return []
    vectors = np.array([m.embedding for m in members], dtype=np.float64)
    similarity = vectors @ vectors.T
    neighbours = (similarity >= limits.identity_cosine).sum(axis=1)
    anchor = int(np.argmax(neighbours + np.array([m.quality for m in members]) * 1e-6))
    majority = similarity[anchor] >= limits.identity_cosine
    centroid = vectors[majority].mean(axis=0)
    scores = [cosine(v, centroid) for v in vectors]
    out = []
    for member, score in zip(members, scores, strict=True):
        if score < limits.identity_cosine:
            message = f"{member.filename} seems to show a different person than the other photos."
            tip = "Use only photos of yourself; remove this one or replace it."
            finding = Finding(
                "identity",
                "error",
                message,
                tip,
                round(score, 3),
                limits.identity_cosine,
                photo_ids=(member.photo_id,),
            )
            out.append((member.photo_id, finding))
    return out


def _near_duplicate(a: SetMember, b: SetMember, limits: ValidationThresholds) -> bool:
    if hash_distance(a.phash, b.phash) <= limits.duplicate_hash_distance:
        return True
    # abs(yaw): a mirrored copy turns the head the other way but is still the same shot.
    same_pose = abs(abs(a.yaw) - abs(b.yaw)) <= limits.duplicate_pose_delta
    same_pose = same_pose and abs(a.pitch - b.pitch) <= limits.duplicate_pose_delta
    return same_pose and cosine(a.embedding, b.embedding) >= limits.duplicate_cosine


def duplicates(
    members: Sequence[SetMember], limits: ValidationThresholds
) -> list[tuple[str, Finding]]:
    """Near-duplicates: of each group, the best-quality photo is kept and the others flagged."""
    ranked = sorted(members, key=lambda m: m.quality, reverse=True)
    kept: list[SetMember] = []
    out = []
    for member in ranked:
        twin = next((k for k in kept if _near_duplicate(member, k, limits)), None)
        if twin is None:
            kept.append(member)
            continue
        message = f"{member.filename} is nearly the same photo as {twin.filename}."
        tip = "Replace it with a photo from another angle, expression or place."
        similarity = round(cosine(member.embedding, twin.embedding), 3)
        # Only the photo to replace is named: the kept twin is fine as it is.
        finding = Finding(
            "duplicate",
            "error",
            message,
            tip,
            similarity,
            limits.duplicate_cosine,
            photo_ids=(member.photo_id,),
        )
        out.append((member.photo_id, finding))
    return out


def count(kept: Sequence[SetMember], limits: ValidationThresholds) -> Finding | None:
    if len(kept) >= limits.min_photos:
        return None
    missing = limits.min_photos - len(kept)
    return Finding(
        "count",
        "error",
        f"{len(kept)} usable photos so far; {limits.min_photos} are needed.",
        f"Add {missing} more photo{'s' if missing != 1 else ''} that pass the checks.",
        float(len(kept)),
        float(limits.min_photos),
    )


def _spread(values: Sequence[float]) -> float:
    return float(max(values) - min(values)) if values else 0.0


def pose_diversity(kept: Sequence[SetMember], limits: ValidationThresholds) -> Finding | None:
    if len(kept) < 2:
        return None
    yaws, pitches = [m.yaw for m in kept], [m.pitch for m in kept]
    yaw_mid = float(np.median(yaws))
    step = limits.pose_step
    missing = []
    if not any(y >= yaw_mid + step for y in yaws):
        missing.append("one looking to your left")
    if not any(y <= yaw_mid - step for y in yaws):
        missing.append("one looking to your right")
    if not missing and _spread(yaws) < limits.min_yaw_spread:
        missing.append("one with your head turned further to the side")
    if _spread(pitches) < limits.min_pitch_spread:
        missing.append("one with your chin slightly up or down")
    if not missing:
        return None
    return Finding(
        "pose_diversity",
        "warning",
        "Your photos show your head from too few angles.",
        "Add " + ", ".join(missing) + ".",
        round(_spread(yaws), 1),
        limits.min_yaw_spread,
    )


def expression_of(member: SetMember, limits: ValidationThresholds) -> str:
    if member.smile >= limits.smile_lift or member.mouth_width >= limits.smile_width:
        return "smiling"
    if member.smile < limits.neutral_lift:
        return "neutral"
    return "other"


def expression_diversity(kept: Sequence[SetMember], limits: ValidationThresholds) -> Finding | None:
    if len(kept) < 2:
        return None
    seen = {expression_of(m, limits) for m in kept}
    missing = [name for name in ("neutral", "smiling") if name not in seen]
    if not missing:
        return None
    wanted = " and ".join(
        "a relaxed, neutral face" if n == "neutral" else "a smile" for n in missing
    )
    return Finding(
        "expression_diversity",
        "warning",
        "Your photos all have the same expression.",
        f"Add a few photos with {wanted}.",
        ", ".join(sorted(seen)),
        "neutral, smiling",
    )


def diversity(kept: Sequence[SetMember], limits: ValidationThresholds) -> dict[str, DiversityValue]:
    yaws, pitches = [m.yaw for m in kept], [m.pitch for m in kept]
    expressions: dict[str, int] = {"neutral": 0, "smiling": 0, "other": 0}
    for member in kept:
        expressions[expression_of(member, limits)] += 1
    return {
        "yaw_spread": round(_spread(yaws), 1),
        "pitch_spread": round(_spread(pitches), 1),
        "yaw_range": [round(min(yaws), 1), round(max(yaws), 1)] if yaws else [],
        "pitch_range": [round(min(pitches), 1), round(max(pitches), 1)] if pitches else [],
        "expressions": expressions,
    }
