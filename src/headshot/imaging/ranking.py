"""Which photos make the best headshot sources: a pure ranking by headshot suitability (frontal,
eyes to the camera, mouth closed or smiling, nothing in front of the face, sharp, well lit).

Used where training photos are chosen (the fal training zip, the studio's sources). Photos the
person excluded never reach it: callers pass the already-filtered list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from headshot.domain.validation import SetMember
from headshot.imaging.thresholds import ValidationThresholds

T = TypeVar("T")
_MID_LUMA = 135.0  # well-exposed skin; `exposure` refuses below 55 and above 215


@dataclass(frozen=True)
class HeadshotTraits:
    """What suitability is judged on; angles in degrees, 0 meaning "not measured" for the
    last three (photos analysed before they were recorded)."""

    yaw: float
    pitch: float
    gaze: float
    mouth_open: float
    smile: float
    occlusion: float
    sharpness: float
    face_luma: float


def member_traits(member: SetMember) -> HeadshotTraits:
    return HeadshotTraits(
        yaw=member.yaw,
        pitch=member.pitch,
        gaze=member.gaze,
        mouth_open=member.mouth_open,
        smile=member.smile,
        occlusion=member.occlusion,
        sharpness=member.sharpness,
        face_luma=member.face_luma,
    )


def headshot_suitability(traits: HeadshotTraits, limits: ValidationThresholds) -> float:
    """0..1, higher is better: the product of how frontal, eye-contact, closed-or-smiling, clear,
    sharp and well lit the face is, each 0..1, so one bad trait sinks the photo."""
    frontal = math.exp(-((traits.yaw / 25.0) ** 2 + (traits.pitch / limits.max_camera_pitch) ** 2))
    eyes = math.exp(-((traits.gaze / limits.max_gaze) ** 2))
    mouth = _mouth_score(traits, limits)
    clear = 1.0 - 0.8 * min(traits.occlusion / limits.max_occlusion, 1.0)
    sharp = 0.7 if traits.sharpness <= 0 else min(traits.sharpness / limits.min_sharpness, 2.0) / 2
    light = 0.7 if traits.face_luma <= 0 else 1.0 - min(abs(traits.face_luma - _MID_LUMA) / 160, 1)
    return round(frontal * eyes * mouth * clear * (0.5 + sharp / 2) * light, 6)


def _mouth_score(traits: HeadshotTraits, limits: ValidationThresholds) -> float:
    """1 for a closed mouth or a smile, falling with the lip gap of an unsmiling mouth: a frame
    caught mid-word (lips parted, teeth showing) makes a weaker headshot well before the gap is
    wide enough for the `mouth` warning, and sinks to 0.4 at that warning."""
    if traits.smile >= limits.smile_lift or limits.max_mouth_open <= 0:
        return 1.0
    closed = limits.max_mouth_open / 3  # relaxed lips leave a small gap
    parted = (traits.mouth_open - closed) / (limits.max_mouth_open - closed)
    return 1.0 - 0.6 * min(max(parted, 0.0), 1.0)


def suitable(traits: HeadshotTraits, limits: ValidationThresholds) -> bool:
    """True when no suitability warning applies: eyes to the camera, mouth closed or smiling,
    camera near eye height, nothing in front of the mouth."""
    speaking = traits.mouth_open > limits.max_mouth_open and traits.smile < limits.smile_lift
    return (
        abs(traits.gaze) <= limits.max_gaze
        and abs(traits.pitch) <= limits.max_camera_pitch
        and traits.occlusion <= limits.max_occlusion
        and not speaking
    )


def rank(
    items: Sequence[T], traits: Callable[[T], HeadshotTraits], limits: ValidationThresholds
) -> list[T]:
    """`items` best first; ties keep their given order."""
    scored = [
        (headshot_suitability(traits(item), limits), index) for index, item in enumerate(items)
    ]
    order = sorted(scored, key=lambda pair: (-pair[0], pair[1]))
    return [items[index] for _, index in order]


def choose_sources(
    items: Sequence[T],
    traits: Callable[[T], HeadshotTraits],
    limits: ValidationThresholds,
    *,
    minimum: int,
) -> list[T]:
    """The photos to train on, best first: every suitable one; when fewer than `minimum` are
    suitable, topped up with the best of the rest (a weaker photo beats too few photos)."""
    ranked = rank(items, traits, limits)
    chosen = [item for item in ranked if suitable(traits(item), limits)]
    if len(chosen) >= minimum:
        return chosen
    spare = [item for item in ranked if item not in chosen]
    return rank([*chosen, *spare[: minimum - len(chosen)]], traits, limits)
