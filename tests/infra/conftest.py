"""Shared fixtures: a Redis URL (skip loudly when unreachable, fail under CI=true), logging
state restored after each test, and a polling helper."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from headshot.jobs import close_huey, make_huey

REDIS_URL = os.environ.get("HEADSHOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def wait_until(predicate: Callable[[], bool], *, timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"REDIS UNREACHABLE at {REDIS_URL} ({exc})"
        if os.environ.get("CI") == "true":
            # CI promises a Redis: a missing one is a failure, never a quiet skip.
            pytest.fail(f"{message}; CI=true requires it (set HEADSHOT_TEST_REDIS_URL)")
        pytest.skip(f"{message}; Redis-backed job tests SKIPPED")
    finally:
        client.close()
    return REDIS_URL


def _drop_huey_keys(url: str, name: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        kinds = ("redis", "schedule", "results", "counters")
        client.delete(*(f"huey.{kind}.{name}" for kind in kinds))
    finally:
        client.close()


@pytest.fixture
def huey_name() -> str:
    return f"test_{uuid.uuid4().hex}"


@pytest.fixture
def redis_huey(redis_url: str, huey_name: str, tmp_path: Path) -> Iterator[Any]:
    huey = make_huey(name=huey_name, data_dir=tmp_path, redis_url=redis_url)
    try:
        yield huey
    finally:
        close_huey(huey)
        _drop_huey_keys(redis_url, huey_name)


@pytest.fixture
def sqlite_huey(tmp_path: Path, huey_name: str) -> Iterator[Any]:
    huey = make_huey(name=huey_name, data_dir=tmp_path, redis_url=None)
    try:
        yield huey
    finally:
        close_huey(huey)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "huey")
    saved = {
        n: (list(logging.getLogger(n).handlers), logging.getLogger(n).propagate) for n in names
    }
    disabled = {n: logging.getLogger(n).disabled for n in names}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, (old_handlers, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = old_handlers
            logger.propagate = propagate
            logger.disabled = disabled[name]
