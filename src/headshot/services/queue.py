"""The `JobQueue` boundary: how services hand work to the background workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class JobQueue(Protocol):
    def run_training(self, training_id: str, *, delay_s: float = 0) -> None: ...

    def run_generation(self, generation_id: str, *, delay_s: float = 0) -> None: ...


Enqueue = Callable[[str, float], object]


class LateBoundQueue:
    """A queue whose enqueue functions are attached once the task queue exists (Huey's tasks need
    the services as their context, so the two are tied together after both are built)."""

    def __init__(self) -> None:
        self._training: Enqueue | None = None
        self._generation: Enqueue | None = None

    def attach(self, *, training: Enqueue, generation: Enqueue) -> None:
        """Each function takes (job id, delay in seconds)."""
        self._training, self._generation = training, generation

    def run_training(self, training_id: str, *, delay_s: float = 0) -> None:
        if self._training is None:
            raise RuntimeError("the job queue is not attached")
        self._training(training_id, delay_s)

    def run_generation(self, generation_id: str, *, delay_s: float = 0) -> None:
        if self._generation is None:
            raise RuntimeError("the job queue is not attached")
        self._generation(generation_id, delay_s)
