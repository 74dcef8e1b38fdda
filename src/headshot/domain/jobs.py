"""Job states of trainings and generations, and the one function that changes them.

    queued ──▶ submitting ──▶ running ──▶ fetching ──▶ succeeded
       │            │ ╲           │   ╲        │
       │            │  ambiguous ─┤    partial │   (a generation with some looks given up)
       ▼            ▼             ▼            ▼
    cancelled    failed / cancelled (from any state that is not terminal)

`submitting` is persisted before a paid provider call; `ambiguous` means the call may have
reached the provider and must be reconciled, never blindly repeated. `partial` ends a
generation whose finished looks are kept while others were given up.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from headshot.domain.errors import ConflictError


class Status(StrEnum):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    AMBIGUOUS = "ambiguous"
    RUNNING = "running"
    FETCHING = "fetching"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: frozenset[str] = frozenset(
    s.value for s in (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CANCELLED)
)
ACTIVE: frozenset[str] = frozenset(s.value for s in Status) - TERMINAL

_NEXT: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.SUBMITTING, Status.RUNNING, Status.FAILED, Status.CANCELLED}),
    Status.SUBMITTING: frozenset(
        {Status.QUEUED, Status.AMBIGUOUS, Status.RUNNING, Status.FAILED, Status.CANCELLED}
    ),
    Status.AMBIGUOUS: frozenset({Status.QUEUED, Status.RUNNING, Status.FAILED, Status.CANCELLED}),
    Status.RUNNING: frozenset(
        {Status.FETCHING, Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CANCELLED}
    ),
    Status.FETCHING: frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}),
}


class HasStatus(Protocol):
    """A job record as far as its state goes (trainings and generations both fit)."""

    status: str


def can_move(current: str, target: str) -> bool:
    """Staying in a non-terminal state is allowed (a step that runs twice writes it again)."""
    if current == target:
        return current in ACTIVE
    return current in ACTIVE and Status(target) in _NEXT[Status(current)]


def check_move(current: str, target: str) -> None:
    if not can_move(current, target):
        raise ConflictError(f"A job that is {current} cannot become {target}.", code="job_state")


def move(job: HasStatus, target: Status) -> None:
    """The only way a job's status changes: refuses a move the state machine does not allow."""
    check_move(job.status, target)
    job.status = target.value
