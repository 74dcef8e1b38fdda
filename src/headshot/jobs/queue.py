"""The Huey instance: SQLite in the data directory (embedded default) or Redis (scale-out)."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey

HUEY_FILE = "huey.db"


def make_huey(*, name: str, data_dir: Path, redis_url: str | None, immediate: bool = False) -> Huey:
    """A Huey that stores no results (tasks report through the database).

    `immediate=True` runs tasks synchronously at enqueue time on in-memory storage (tests).
    """
    if redis_url:
        return RedisHuey(name=name, url=redis_url, results=False, immediate=immediate)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return SqliteHuey(
        name=name, filename=str(data_dir / HUEY_FILE), results=False, immediate=immediate
    )


def close_huey(huey: Huey) -> None:
    """Release the storage's connections (SQLite handle, Redis pool)."""
    huey.storage.close()
    pool = getattr(huey.storage, "pool", None)
    if pool is not None:
        pool.disconnect()
