"""The engines available to this deployment, by name (chosen in the wiring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from headshot.domain.culling import CullCandidate
from headshot.engines.protocol import LocalEngine, RemoteEngine


class Likeness(Protocol):
    def score(self, image: bytes, references: Sequence[Sequence[float]]) -> float | None: ...

    def candidate(
        self,
        candidate_id: str,
        image: bytes,
        references: Sequence[Sequence[float]],
        *,
        edge_deviation: float | None = None,
    ) -> CullCandidate: ...


@dataclass(frozen=True)
class EngineSet:
    default: str
    local: Mapping[str, LocalEngine] = field(default_factory=dict)
    remote: Mapping[str, RemoteEngine] = field(default_factory=dict)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.local) | frozenset(self.remote)
