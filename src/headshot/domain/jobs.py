"""Job states of trainings and generations, and which transitions are allowed.

    queued ──▶ submitting ──▶ running ──▶ fetching ──▶ succeeded
       │            │ ╲           │            │
       │            │  ambiguous ─┤            │
       ▼            ▼             ▼            ▼
    cancelled    failed / cancelled (from any state that is not terminal)

`submitting` is persisted before a paid provider call; `ambiguous` means the call may have
reached the provider and must be reconciled, never blindly repeated.
"""

from __future__ import annotations

from typing import Literal

from headshot.domain.errors import ConflictError

Status = Literal[
    "queued", "submitting", "ambiguous", "running", "fetching", "succeeded", "failed", "cancelled"
]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE: frozenset[str] = frozenset({"queued", "submitting", "ambiguous", "running", "fetching"})

_NEXT: dict[str, frozenset[str]] = {
    "queued": frozenset({"submitting", "running", "failed", "cancelled"}),
    "submitting": frozenset({"queued", "ambiguous", "running", "failed", "cancelled"}),
    "ambiguous": frozenset({"queued", "running", "failed", "cancelled"}),
    "running": frozenset({"fetching", "succeeded", "failed", "cancelled"}),
    "fetching": frozenset({"succeeded", "failed", "cancelled"}),
}


def can_move(current: str, target: str) -> bool:
    return target in _NEXT.get(current, frozenset())


def check_move(current: str, target: str) -> None:
    if not can_move(current, target):
        raise ConflictError(f"A job that is {current} cannot become {target}.", code="job_state")
