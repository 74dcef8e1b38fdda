"""What each engine can render, axis by axis, so the app never offers a look it cannot make.

The studio engine relights the person's own photos: backgrounds and lighting change, the clothes
do not. A look that names another attire for it is refused rather than filed under a lie.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from headshot.domain.errors import InvalidInputError
from headshot.domain.models import Look
from headshot.domain.styles import Axis, find_style

OWN_CLOTHES = "as-is"
AXES: tuple[Axis, ...] = ("background", "attire", "lighting")


@dataclass(frozen=True)
class AxisSupport:
    """Whether an engine renders an axis; when not, the one style it keeps (`fixed`) and why."""

    supported: bool
    reason: str | None = None
    fixed: str | None = None


ALL_SUPPORTED: Mapping[Axis, AxisSupport] = {axis: AxisSupport(True) for axis in AXES}
ENGINE_AXES: Mapping[str, Mapping[Axis, AxisSupport]] = {
    "fal": ALL_SUPPORTED,
    "studio": {
        "background": AxisSupport(True),
        "attire": AxisSupport(
            False, "The studio engine keeps the clothes from your photos.", fixed=OWN_CLOTHES
        ),
        "lighting": AxisSupport(True),
    },
}


def axes_of(engine: str) -> Mapping[Axis, AxisSupport]:
    return ENGINE_AXES.get(engine, ALL_SUPPORTED)


def refuse_unsupported(engine: str, looks: Sequence[Look]) -> None:
    """Raise `InvalidInputError` (`unsupported_style`) for a look the engine cannot render."""
    axes = axes_of(engine)
    for look in looks:
        for axis in AXES:
            support = axes[axis]
            if not support.supported and getattr(look, axis) != support.fixed:
                kept = find_style(axis, support.fixed or "")
                choice = f"“{kept.name}”" if kept else "no change"
                raise InvalidInputError(
                    f"{support.reason} Choose {choice} for {axis} in every look.",
                    code="unsupported_style",
                    details={"axis": axis, "engine": engine},
                )
