"""Login limiting per account and per client address, counted before the password is checked.

Each attempt reserves one count in both buckets and commits it before any verification, so
parallel guesses cannot all slip under the limit. A successful login gives back only its own
reservation: it never clears failures that someone else (or another account) caused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from headshot.domain.errors import RateLimitedError
from headshot.services.ratelimit import RateLimiter, Reservation, release
from headshot.services.secrets import digest
from headshot.storage.db import Database


class LoginLimiter:
    def __init__(
        self,
        *,
        db: Database,
        account_attempts: int,
        address_attempts: int,
        window_s: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._account = RateLimiter(limit=account_attempts, window_s=window_s, clock=clock)
        self._address = RateLimiter(limit=address_attempts, window_s=window_s, clock=clock)

    def reserve(self, *, email: str, client: str) -> tuple[Reservation, ...]:
        """Count this attempt against the account and the address (committed at once);
        raise `RateLimitedError` when either is over its limit."""
        held: list[Reservation] = []
        refused: list[RateLimitedError] = []
        buckets = (
            (self._account, f"login:email:{digest(email)}"),
            (self._address, f"login:client:{digest(client)}"),
        )
        # The refusal is raised after the commit: a refused attempt still counts.
        with self._db.transaction() as db:
            for limiter, bucket in buckets:
                try:
                    held.append(limiter.reserve(db, bucket))
                except RateLimitedError as error:
                    refused.append(error)
        if refused:
            raise max(refused, key=lambda error: error.retry_after_s)
        return tuple(held)

    def succeeded(self, held: tuple[Reservation, ...]) -> None:
        """A correct password: this attempt was not a failure, so give its counts back."""
        with self._db.transaction() as db:
            for reservation in held:
                release(db, reservation)
