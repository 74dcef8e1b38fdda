"""`kill -9` of a worker mid-training loses nothing and never double-submits: a new worker
process finishes the job, and a worker already running resumes it within the job lease
(PostgreSQL, Redis, S3 and the fal double, all on loopback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.imaging.models import FaceModels
from headshot.settings import Settings
from headshot.storage.records import JobLease, Training
from headshot.wiring import build_runtime
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, ready_session
from tests.fal_double.core import API_KEY
from tests.fal_double.faults import Fault
from tests.fal_double.server import FalDouble
from tests.fal_double.state import Pace
from tests.scaleout.conftest import wait_until

TRAINER = "fal-ai/flux-lora-portrait-trainer"


@pytest.fixture
def slow_double() -> Iterator[FalDouble]:
    # The training advances only when the test says so, so it is surely mid-way at the kill.
    double = FalDouble.start(seed=3, pace=Pace(queue_ticks=1, run_ticks=4, advance_per_poll=0))
    try:
        yield double
    finally:
        double.stop()


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "headshot", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _status(runtime: Any, training_id: str) -> tuple[str, dict[str, Any]]:
    with runtime.services.db.transaction() as db:
        row = db.get(Training, training_id)
        assert row is not None
        return row.status, dict(row.provider_handle or {})


def _fal_env(double: FalDouble, monkeypatch: pytest.MonkeyPatch, **more: str) -> None:
    extra = {
        "HEADSHOT_FAL_KEY": API_KEY,
        "HEADSHOT_FAL_QUEUE_URL": double.queue_url,
        "HEADSHOT_FAL_REST_URL": double.rest_url,
        "HEADSHOT_FAL_CDN_URL": double.cdn_url,
        "HEADSHOT_FAL_API_URL": double.api_url,
        "HEADSHOT_VALIDATION__MIN_PHOTOS": "3",
        "HEADSHOT_JOBS__FIRST_POLL_S": "0.3",
        "HEADSHOT_JOBS__MAX_POLL_S": "0.5",
        **more,
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def _lease_holder(runtime: Any, training_id: str) -> int | None:
    """The pid of the worker whose step holds the training's lease now, if any."""
    with runtime.services.db.transaction() as db:
        lease = db.get(JobLease, training_id)
        return int(lease.owner.split(":")[1]) if lease is not None else None


def test_sigkilled_worker_loses_nothing(
    scaleout_env: dict[str, str],
    slow_double: FalDouble,
    testdata: Path,
    face_models: FaceModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fal_env(slow_double, monkeypatch)
    env = {k: v for k, v in os.environ.items() if k != "bucket"}
    runtime = build_runtime(Settings(), face_models=face_models)
    runtime.huey.flush()
    first = _worker(env)
    second: subprocess.Popen[bytes] | None = None
    try:
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            headers = sign_up(client, "kill@example.com")
            session_id = ready_session(client, headers, testdata)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            training_id = started.json()["id"]
        # Submitted and polled at least twice by the first worker, then killed without warning.
        assert wait_until(
            lambda: int(_status(runtime, training_id)[1].get("polls", 0)) >= 2, timeout=60
        ), _status(runtime, training_id)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        slow_double.advance(10)  # the provider finishes while no worker is alive
        second = _worker(env)
        assert wait_until(lambda: _status(runtime, training_id)[0] == "succeeded", timeout=90), (
            _status(runtime, training_id)
        )
        assert slow_double.billable_submits(TRAINER) == 1
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        runtime.close()


LEASE_S = 6.0


def test_a_running_worker_resumes_the_job_of_a_killed_one_within_the_lease(
    scaleout_env: dict[str, str],
    slow_double: FalDouble,
    testdata: Path,
    face_models: FaceModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fal_env(slow_double, monkeypatch, HEADSHOT_JOBS__LEASE_S=str(LEASE_S))
    env = {k: v for k, v in os.environ.items() if k != "bucket"}
    runtime = build_runtime(Settings(), face_models=face_models)
    runtime.huey.flush()
    workers = {process.pid: process for process in (_worker(env), _worker(env))}
    try:
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            headers = sign_up(client, "lease@example.com")
            session_id = ready_session(client, headers, testdata)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            training_id = started.json()["id"]
        assert wait_until(
            lambda: int(_status(runtime, training_id)[1].get("polls", 0)) >= 2, timeout=60
        ), _status(runtime, training_id)
        # The next status poll hangs at the provider: its worker is surely mid-step, holding
        # the lease, when it is killed.
        polls_before = len(slow_double.received_on("status"))
        slow_double.inject(Fault(route="status", kind="slow", delay_s=25))
        assert wait_until(lambda: len(slow_double.received_on("status")) > polls_before, timeout=30)
        assert wait_until(lambda: _lease_holder(runtime, training_id) is not None, timeout=10)
        holder = _lease_holder(runtime, training_id)
        assert holder in workers
        hanging = len(slow_double.received_on("status"))
        workers[holder].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        workers[holder].wait(timeout=10)
        # The survivor's heartbeat sees the lease expire and enqueues the job; it polls again.
        assert wait_until(
            lambda: len(slow_double.received_on("status")) > hanging, timeout=LEASE_S + 20
        )
        resumed_after = time.monotonic() - killed_at
        assert resumed_after <= LEASE_S + 2 * (LEASE_S / 6) + 3, resumed_after
        slow_double.advance(10)
        assert wait_until(lambda: _status(runtime, training_id)[0] == "succeeded", timeout=60), (
            _status(runtime, training_id)
        )
        assert slow_double.billable_submits(TRAINER) == 1
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        runtime.close()
