"""Owed fal payload deletions survive `kill -9` of the worker that was working them off: a new
worker process finishes them and the receipt turns complete (PostgreSQL, Redis, S3 and the fal
double, all on loopback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.imaging.models import FaceModels
from headshot.settings import Settings
from headshot.wiring import build_runtime
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, ready_session
from tests.fal_double.core import ADMIN_KEY, API_KEY
from tests.fal_double.faults import Fault
from tests.fal_double.server import FalDouble
from tests.scaleout.conftest import wait_until


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "headshot", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _receipt(client: TestClient, url: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(url).json()
    return answer


def test_provider_deletions_finish_after_a_worker_is_killed(
    scaleout_env: dict[str, str],
    testdata: Path,
    face_models: FaceModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    double = FalDouble.start(seed=21)
    extra = {
        "HEADSHOT_FAL_KEY": API_KEY,
        "HEADSHOT_FAL_ADMIN_KEY": ADMIN_KEY,
        "HEADSHOT_FAL_QUEUE_URL": double.queue_url,
        "HEADSHOT_FAL_REST_URL": double.rest_url,
        "HEADSHOT_FAL_CDN_URL": double.cdn_url,
        "HEADSHOT_FAL_API_URL": double.api_url,
        "HEADSHOT_VALIDATION__MIN_PHOTOS": "3",
        "HEADSHOT_JOBS__FIRST_POLL_S": "0.3",
        "HEADSHOT_JOBS__MAX_POLL_S": "0.5",
        "HEADSHOT_RETENTION__PROVIDER_DELETION_RETRY_S": "0.5",
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    env = {k: v for k, v in os.environ.items() if k != "bucket"}
    runtime = build_runtime(Settings(), face_models=face_models)
    runtime.huey.flush()
    first = _worker(env)
    second: subprocess.Popen[bytes] | None = None
    try:
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            headers = sign_up(client, "kill-erase@example.com")
            session_id = ready_session(client, headers, testdata)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            training = f"{API}/trainings/{started.json()['id']}"
            assert wait_until(
                lambda: client.get(training, headers=headers).json()["status"] == "succeeded",
                timeout=60,
            )
            (request_id,) = double.requests

            double.inject(Fault("delete_payloads", "status", status=503, times=0))
            receipt = client.delete(f"{API}/me", headers=headers).json()
            assert receipt["status"] == "pending"
            # The first worker tries, fal keeps failing, and the worker dies without warning.
            assert wait_until(lambda: len(double.received_on("delete_payloads")) >= 1, timeout=30)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            double.clear_faults()

            second = _worker(env)
            # The next maintenance tick (once a minute) works off what is still owed.
            assert wait_until(
                lambda: _receipt(client, receipt["status_url"])["status"] == "complete",
                timeout=90,
            ), _receipt(client, receipt["status_url"])
        deletions = [r.path for r in double.received_on("delete_payloads")]
        assert all(request_id in path for path in deletions)
        assert not double.requests[request_id].files
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        runtime.close()
        double.stop()
