"""How long to wait before asking a provider again: exponential, jittered, never sooner than
the provider asked (`Retry-After`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    first_s: float  # the longest first wait; each retry doubles it
    max_s: float  # no wait is longer than this, unless the provider asks for more

    def delay(self, retry: int, *, retry_after_s: float | None, draw: float) -> float:
        """The wait before retry number `retry` (0 for the first). `draw` in [0, 1) picks where
        between half and the whole of the exponential wait it falls, so many jobs that failed
        together do not come back together."""
        ceiling = min(self.max_s, self.first_s * 2.0 ** min(retry, 32))
        return max(ceiling * (0.5 + draw / 2), retry_after_s or 0.0)
