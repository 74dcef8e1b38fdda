"""Progress events (R4.2): one `validation` event per photo, then training progress, read from the
records so any server process can serve any user's stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from headshot.services.events import Events
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session, trained_model


@pytest.fixture
def app(make_services: Callable[..., Services]) -> Iterator[tuple[TestClient, Services]]:
    services = make_services(**SMALL_SET)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        yield client, services


def test_validation_and_training_events(app: tuple[TestClient, Services], testdata: Path) -> None:
    client, services = app
    headers = sign_up(client, "events@example.com")
    other = sign_up(client, "someone-else@example.com")
    principal = services.accounts.authenticate(headers["Authorization"].split()[1])
    events = Events(db=services.db, clock=services.clock)
    seen: dict[str, tuple[Any, ...]] = {}
    since = services.clock() - timedelta(minutes=1)

    session_id = ready_session(client, headers, testdata)
    ready_session(client, other, testdata)  # another user's photos must not show up
    first = events.changes(principal, seen=seen, since=since)
    validations = [e for e in first if e.kind == "validation"]
    assert len(validations) == 3
    assert all(e.data["session_id"] == session_id and e.data["accepted"] for e in validations)
    assert events.changes(principal, seen=seen, since=since) == []  # nothing new, nothing sent

    model = trained_model(client, headers, session_id)
    training = [
        e for e in events.changes(principal, seen=seen, since=since) if e.kind == "training"
    ]
    assert [(e.id, e.data["status"], e.data["progress"]) for e in training] == [
        (model["id"], "succeeded", 1.0)
    ]


def test_events_endpoint_needs_a_login(app: tuple[TestClient, Services]) -> None:
    client, _ = app
    assert client.get(f"{API}/events").status_code == 401
