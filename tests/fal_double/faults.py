"""Seeded fault injection for the fal double: which call fails, and how."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "slow", "reset_before", "reset_after", "fail_request"]
# Route names the double matches faults against.
Route = Literal[
    "submit",
    "status",
    "result",
    "cancel",
    "token",
    "cdn_upload",
    "initiate",
    "signed_put",
    "download",
    "jwks",
    "delete_payloads",
    "list_requests",
    "create_key",
    "delete_key",
]


@dataclass(frozen=True)
class Fault:
    """`status`: answer `status` (with Retry-After / x-fal-request-id if asked) and do nothing.
    `slow`: wait `delay_s`, then answer normally. `reset_before`: drop the connection (TCP RST)
    before acting. `reset_after`: act (a submit creates and bills the request), then drop it.
    `fail_request` (submit only): accept, but the request completes with a model error."""

    route: Route
    kind: FaultKind
    status: int = 503
    retry_after: str | None = None
    with_request_id: bool = False
    delay_s: float = 0.0
    times: int = 1  # matching calls it hits; 0 = every one
    probability: float = 1.0  # drawn from the double's seeded RNG
    endpoint: str | None = None  # submits: only this endpoint


@dataclass(frozen=True)
class FaultPlan:
    faults: tuple[Fault, ...] = ()


class FaultInjector:
    def __init__(self, plan: FaultPlan, *, rng: random.Random) -> None:
        self._rng = rng
        self._lock = threading.Lock()
        self._active: list[list[object]] = [[fault, fault.times] for fault in plan.faults]

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._active.append([fault, fault.times])

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def pick(self, route: str, *, endpoint: str | None = None) -> Fault | None:
        """The first armed fault for this call, consuming one of its uses."""
        with self._lock:
            for entry in self._active:
                fault, left = entry
                assert isinstance(fault, Fault) and isinstance(left, int)
                if fault.route != route or (fault.endpoint and fault.endpoint != endpoint):
                    continue
                if fault.times and left <= 0:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                entry[1] = left - 1
                return fault
        return None
