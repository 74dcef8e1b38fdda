"""Scheduled fal key rotation (R5.3) with an injected clock against the fal double: the key is
replaced through fal's key API when it is due, work in flight finishes on the old key, which is
deleted at fal only after that; every step is in the audit log. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.api.app import create_app
from headshot.storage.records import AuditEntry
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session
from tests.api.test_pipeline_fal import fal_runtime
from tests.api.test_signup import login
from tests.clock import SettableClock
from tests.fal_double.core import ADMIN_KEY, API_KEY
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble


def key_states(runtime: Runtime) -> dict[str, str]:
    return {
        view.label: view.state
        for view in runtime.services.provider_keys.list()
        if view.scope == "API"
    }


def test_scheduled_rotation_waits_for_work_in_flight(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
    clock: SettableClock,
) -> None:
    runtime = fal_runtime(
        make_runtime, fal_double, **SMALL_SET, fal_admin_key=ADMIN_KEY, fal_key_rotation_days=30
    )
    services = runtime.services
    schedule = services.key_rotation
    assert schedule is not None
    due = {task.name for task in runtime.huey.read_periodic(datetime(2026, 11, 1, 13, 0))}
    assert any(name.endswith("rotate_provider_keys") for name in due)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "rotate@example.com")
        session_id = ready_session(client, headers, testdata)
        url = f"{API}/sessions/{session_id}/trainings"
        first = client.post(url, json={}, headers=headers)
        assert first.status_code == 202 and first.json()["status"] == "running"

        assert schedule.run().rotated_to is None  # the key is new: nothing is due
        assert fal_double.created_keys == []

        clock.advance(days=30)
        report = schedule.run()
        assert report.rotated_to is not None
        assert fal_double.created_keys == ["headshot 2026-12-01"]
        assert key_states(runtime) == {"from settings": "retiring", "headshot 2026-12-01": "active"}
        assert report.deleted == [] and fal_double.accepts_key(API_KEY)

        clock.advance(hours=2)
        held = schedule.run()  # the training in flight still polls with the old key
        assert held.deleted == [] and len(held.waiting) == 1
        assert fal_double.accepts_key(API_KEY)

        run_scheduled(runtime)
        headers = login(client, "rotate@example.com")  # the login session expired meanwhile
        done = client.get(f"{API}/trainings/{first.json()['id']}", headers=headers).json()
        assert done["status"] == "succeeded", done
        finished = schedule.run()
        assert finished.rotated_to is None and len(finished.deleted) == 1
        assert fal_double.deleted_keys == [API_KEY.partition(":")[0]]
        assert not fal_double.accepts_key(API_KEY)
        assert key_states(runtime) == {"from settings": "revoked", "headshot 2026-12-01": "active"}

        second = client.post(url, json={}, headers=headers)
        assert second.status_code == 202, second.text
        run_scheduled(runtime)
        submit = fal_double.received_on("submit")[-1]
        used = submit.headers["authorization"].removeprefix("Key ")
        assert used != API_KEY and fal_double.accepts_key(used)
        final = client.get(f"{API}/trainings/{second.json()['id']}", headers=headers).json()
        assert final["status"] == "succeeded"

    with services.db.transaction() as db:
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.actor == "system")))
    assert actions.count("provider_key.scheduled_rotation") == 1
    assert actions.count("provider_key.scheduled_delete") == 1


def test_without_an_admin_key_nothing_rotates(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    clock: SettableClock,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, fal_key_rotation_days=1)
    runtime.services.provider_keys.import_from_settings(API_KEY)
    clock.advance(days=5)
    assert runtime.services.key_rotation is not None
    assert runtime.services.key_rotation.run().rotated_to is None
    assert fal_double.created_keys == []
