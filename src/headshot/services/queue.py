"""The `JobQueue` boundary: how services hand work to the background workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class JobQueue(Protocol):
    def run_training(self, training_id: str) -> None: ...

    def run_generation(self, generation_id: str) -> None: ...


class LateBoundQueue:
    """A queue whose enqueue functions are attached once the task queue exists (Huey's tasks need
    the services as their context, so the two are tied together after both are built)."""

    def __init__(self) -> None:
        self._training: Callable[[str], object] | None = None
        self._generation: Callable[[str], object] | None = None

    def attach(
        self, *, training: Callable[[str], object], generation: Callable[[str], object]
    ) -> None:
        self._training, self._generation = training, generation

    def run_training(self, training_id: str) -> None:
        if self._training is None:
            raise RuntimeError("the job queue is not attached")
        self._training(training_id)

    def run_generation(self, generation_id: str) -> None:
        if self._generation is None:
            raise RuntimeError("the job queue is not attached")
        self._generation(generation_id)
