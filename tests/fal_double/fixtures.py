"""pytest fixtures for the fal double; import them into a conftest.py:

from tests.fal_double.fixtures import fal_double, fal_engine  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from headshot.engines.fal import FalEngine, StaticFalCredentials
from tests.fal_double.core import ADMIN_KEY, API_KEY
from tests.fal_double.server import FalDouble


@pytest.fixture
def fal_double() -> Iterator[FalDouble]:
    """A fresh double per test, seed 0, no faults (add them with `.inject`)."""
    double = FalDouble.start(seed=0)
    try:
        yield double
    finally:
        double.stop()


def engine_for(double: FalDouble, **overrides: object) -> FalEngine:
    """A `FalEngine` wired to the double, with the double's clock."""

    def clock() -> datetime:
        return double.clock.datetime()

    values: dict[str, object] = {
        "queue_url": double.queue_url,
        "rest_url": double.rest_url,
        "cdn_url": double.cdn_url,
        "api_url": double.api_url,
        "clock": clock,
    }
    values.update(overrides)
    credentials = StaticFalCredentials([API_KEY], admin_key=ADMIN_KEY)
    return FalEngine(credentials, **values)  # type: ignore[arg-type]


@pytest.fixture
def fal_engine(fal_double: FalDouble) -> Iterator[FalEngine]:
    engine = engine_for(fal_double)
    try:
        yield engine
    finally:
        engine.close()
