"""A settable clock for tests (services take the clock as a constructor argument)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SettableClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
