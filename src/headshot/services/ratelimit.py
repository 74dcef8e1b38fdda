"""Fixed-window rate limiting kept in the database, so every server process shares the counts.

An attempt is *reserved* (counted) in one atomic upsert before the work it guards runs, so
parallel attempts cannot all pass a check made before any of them is counted. A bucket that
runs over its limit records a lockout (remembered for `longest_window_s`); each further lockout
doubles the length of the window, up to `2**BACKOFF_STEPS` times the base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, literal, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from headshot.domain.errors import RateLimitedError
from headshot.storage.records import RateLimitBucket

BACKOFF_STEPS = 6
LOCKOUTS_SUFFIX = ":lockouts"
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."


def longest_window_s(window_s: int) -> int:
    """How long a bucket can matter: purge rows only once they are older than this."""
    return window_s << BACKOFF_STEPS


@dataclass(frozen=True)
class Reservation:
    """One counted attempt; `release` gives it back when the attempt turned out legitimate."""

    bucket: str
    window_started_at: datetime


class RateLimiter:
    def __init__(self, *, limit: int, window_s: int, clock: Callable[[], datetime]) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock

    def reserve(self, db: Session, bucket: str) -> Reservation:
        """Count one attempt atomically; raise `RateLimitedError` when it is over the limit.

        A refused attempt is counted too, so a bucket stays locked while it is hammered."""
        now = self._clock()
        lockouts = self._lockouts(db, bucket)
        count, started = _increment(db, bucket, now=now, window=self._window(lockouts))
        if count <= self._limit:
            return Reservation(bucket, started)
        if count == self._limit + 1:  # exactly one attempt sees the crossing
            longest = timedelta(seconds=longest_window_s(self._window_s))
            lockouts, _ = _increment(db, bucket + LOCKOUTS_SUFFIX, now=now, window=longest)
        retry = started + self._window(lockouts) - now
        raise RateLimitedError(TOO_MANY, retry_after_s=max(1, int(retry.total_seconds())))

    def _window(self, lockouts: int) -> timedelta:
        """The base window, doubled for each lockout after the first."""
        return timedelta(seconds=self._window_s << min(max(lockouts - 1, 0), BACKOFF_STEPS))

    def _lockouts(self, db: Session, bucket: str) -> int:
        row = db.get(RateLimitBucket, bucket + LOCKOUTS_SUFFIX)
        longest = timedelta(seconds=longest_window_s(self._window_s))
        if row is None or self._clock() - row.window_started_at >= longest:
            return 0
        return row.count


def release(db: Session, reservation: Reservation) -> None:
    """Give back one reserved attempt (only within the window it was counted in)."""
    db.execute(
        update(RateLimitBucket)
        .where(
            RateLimitBucket.bucket == reservation.bucket,
            RateLimitBucket.window_started_at == reservation.window_started_at,
            RateLimitBucket.count > 0,
        )
        .values(count=RateLimitBucket.count - 1)
    )


def _increment(
    db: Session, bucket: str, *, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Add one to the bucket (starting a new window when the old one is over) in a single
    statement, and return the new count and the window's start."""
    table = RateLimitBucket.__table__
    when = literal(now, type_=table.c.window_started_at.type)
    insert: Any = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    expired = table.c.window_started_at <= now - window
    statement = (
        insert(table)
        .values(bucket=bucket, window_started_at=now, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.bucket],
            set_={
                "count": case((expired, 1), else_=table.c.count + 1),
                "window_started_at": case((expired, when), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.count, table.c.window_started_at)
    )
    count, started = db.execute(statement).one()
    return int(count), started
