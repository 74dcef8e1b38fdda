"""An app over real services (SQLite and PostgreSQL), reached through an HTTPS test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.imaging.models import FaceModels
from headshot.services.container import Services
from headshot.storage.db import make_engine
from headshot.storage.migrate import upgrade
from headshot.wiring import Runtime, build_runtime
from tests.api.mail_helpers import inbox  # noqa: F401 (a fixture for every API test)
from tests.clock import SettableClock
from tests.conftest import settings_for

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def make_runtime(
    tmp_path: Path, database_url: str, face_models: FaceModels, clock: SettableClock
) -> Iterator[Callable[..., Runtime]]:
    built: list[Runtime] = []

    def make(**overrides: Any) -> Runtime:
        settings = settings_for(tmp_path, database_url, **overrides)
        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        engine.dispose()
        # Tasks run inline (immediate Huey): a request that enqueues work sees it done; work
        # scheduled for later waits in Huey's schedule until `run_scheduled` runs it.
        runtime = build_runtime(settings, clock=clock, face_models=face_models, immediate=True)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()


@pytest.fixture
def make_services(make_runtime: Callable[..., Runtime]) -> Callable[..., Services]:
    return lambda **overrides: make_runtime(**overrides).services


def run_scheduled(runtime: Runtime, *, rounds: int = 200) -> None:
    """Run every task scheduled for later (polls, retries) until none is left."""
    horizon = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # Huey keeps naive UTC
    for _ in range(rounds):
        tasks = runtime.huey.read_schedule(horizon)
        if not tasks:
            return
        for task in tasks:
            runtime.huey.execute(task, timestamp=horizon)
    raise AssertionError("scheduled work did not settle")


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), base_url="https://testserver") as test_client:
        yield test_client


def sign_up(client: TestClient, email: str, *, consent: bool = True) -> dict[str, str]:
    """Register, log in and (by default) consent; returns bearer headers."""
    assert (
        client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        ).status_code
        == 201
    )
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # tests authenticate with bearer headers unless they say otherwise
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    if consent:
        given = client.post(
            "/api/v1/me/consent", json={"biometric_processing": True}, headers=headers
        )
        assert given.status_code == 200
    return headers
