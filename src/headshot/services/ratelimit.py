"""Fixed-window rate limiting kept in the database, so every server process shares the counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from headshot.domain.errors import RateLimitedError
from headshot.storage.records import RateLimitBucket


class RateLimiter:
    def __init__(self, *, limit: int, window_s: int, clock: Callable[[], datetime]) -> None:
        self._limit = limit
        self._window = timedelta(seconds=window_s)
        self._clock = clock

    def check(self, db: Session, bucket: str) -> None:
        """Raise `RateLimitedError` when the bucket has used up its window."""
        row = db.get(RateLimitBucket, bucket)
        now = self._clock()
        if row is None or now - row.window_started_at >= self._window:
            return
        if row.count >= self._limit:
            retry = row.window_started_at + self._window - now
            raise RateLimitedError(
                "Too many attempts. Please wait a few minutes and try again.",
                retry_after_s=max(1, int(retry.total_seconds())),
            )

    def hit(self, db: Session, bucket: str) -> None:
        now = self._clock()
        row = db.get(RateLimitBucket, bucket, with_for_update=True)
        if row is None:
            db.add(RateLimitBucket(bucket=bucket, window_started_at=now, count=1))
        elif now - row.window_started_at >= self._window:
            row.window_started_at, row.count = now, 1
        else:
            row.count += 1

    def reset(self, db: Session, bucket: str) -> None:
        db.execute(delete(RateLimitBucket).where(RateLimitBucket.bucket == bucket))
