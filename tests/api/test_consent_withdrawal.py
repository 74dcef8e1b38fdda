"""Withdrawing consent stops all processing of the person's photos at once: running jobs are
cancelled (at fal too), new work is refused, and a job already queued does nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from headshot.api.app import create_app
from headshot.storage.records import Consent
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session, trained_model
from tests.api.test_pipeline_fal import fal_runtime
from tests.fal_double.server import FalDouble
from tests.fal_double.state import Pace

LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}


@pytest.fixture
def stalled_double() -> Iterator[FalDouble]:
    # Trainings stay running until the test says otherwise.
    double = FalDouble.start(seed=13, pace=Pace(queue_ticks=1, run_ticks=50, advance_per_poll=0))
    try:
        yield double
    finally:
        double.stop()


def test_withdrawal_cancels_running_work_and_refuses_new_work(
    make_runtime: Callable[..., Runtime], stalled_double: FalDouble, testdata: Path
) -> None:
    runtime = fal_runtime(make_runtime, stalled_double, **SMALL_SET)
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers = sign_up(client, "withdraw@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        training = f"{API}/trainings/{started.json()['id']}"
        assert client.get(training, headers=headers).json()["status"] == "running"

        answer = client.post(
            f"{API}/me/consent", json={"biometric_processing": False}, headers=headers
        )

        assert answer.status_code == 200
        body = answer.json()
        assert body["consent_given"] is False and body["erasure_url"] == "/api/v1/me"
        assert "erase" in body["message"]
        stopped = client.get(training, headers=headers).json()
        assert stopped["status"] == "cancelled" and "consent" in stopped["stage"]
        run_scheduled(runtime)
        assert stalled_double.received_on("cancel"), "the provider job must be cancelled too"
        for path, payload in (
            (f"/sessions/{session_id}/trainings", {}),
            (
                "/generations",
                {"model_id": started.json()["id"], "looks": [LOOK], "images_per_look": 1},
            ),
        ):
            refused = client.post(f"{API}{path}", json=payload, headers=headers)
            assert refused.status_code in (403, 409), refused.text
            if refused.status_code == 403:
                assert refused.json()["error"]["code"] == "consent_required"
        files = {"files": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}
        upload = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
        assert upload.status_code == 403
        audit = client.get(f"{API}/me/audit", headers=headers).json()["items"]
        assert "job.cancel.consent_withdrawn" in [e["action"] for e in audit]


def test_a_queued_job_does_nothing_once_consent_is_gone(
    make_runtime: Callable[..., Runtime], stalled_double: FalDouble, testdata: Path
) -> None:
    runtime = fal_runtime(make_runtime, stalled_double, **SMALL_SET)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "queued@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        training = f"{API}/trainings/{started.json()['id']}"
        # Consent disappears behind the services' back (another process withdrew it): the
        # next scheduled poll of the job is what must notice.
        with services.db.transaction() as db:
            db.execute(update(Consent).values(withdrawn_at=services.clock()))
        run_scheduled(runtime)
        assert client.get(training, headers=headers).json()["status"] == "cancelled"
        assert stalled_double.received_on("cancel")


def test_withdrawing_and_giving_again_restores_processing(
    testdata: Path, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(validation={"min_photos": 3})
    with TestClient(create_app(runtime.services), base_url="https://testserver") as app:
        headers = sign_up(app, "again@example.com")
        session_id = ready_session(app, headers, testdata)
        app.post(f"{API}/me/consent", json={"biometric_processing": False}, headers=headers)
        refused = app.post(
            f"{API}/sessions/{session_id}/trainings", json={"engine": "studio"}, headers=headers
        )
        assert refused.status_code == 403
        given = app.post(f"{API}/me/consent", json={"biometric_processing": True}, headers=headers)
        assert given.json()["consent_given"] is True and given.json()["erasure_url"] is None
        assert trained_model(app, headers, session_id)["status"] == "succeeded"
