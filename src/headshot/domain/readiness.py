"""One word per photo that agrees with the set's readiness, free of I/O.

A photo counts towards readiness only when it passed its own checks, the person did not leave it
out, and no blocking set finding (another person, a near-duplicate) names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

PhotoStatus = Literal["usable", "needs_attention", "refused", "excluded"]


def photo_status(*, accepted: bool, excluded: bool, named_by_set: bool) -> PhotoStatus:
    if not accepted:
        return "refused"  # nothing was kept to train on, whatever else was chosen
    if excluded:
        return "excluded"
    return "needs_attention" if named_by_set else "usable"


def photos_named_by_set(report: Mapping[str, Any]) -> frozenset[str]:
    """Ids of the photos that a blocking set finding names (the set checks leave them out)."""
    named = {str(p["id"]) for p in report.get("excluded_photos", ())}
    for finding in report.get("findings", ()):
        if finding.get("severity") == "error":
            named.update(str(i) for i in finding.get("photo_ids") or ())
    return frozenset(named)
