"""The daily spend cap holds across processes: two `headshot serve` processes take training
starts for several people at the same moment while two `headshot worker` processes submit them
to the fal double; exactly as many trainings as the cap pays for are accepted and submitted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from headshot.api.app import create_app
from headshot.imaging.models import FaceModels
from headshot.settings import Settings
from headshot.storage.records import Training
from headshot.wiring import Runtime, build_runtime
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, ready_session
from tests.e2e.test_serve import _free_port
from tests.fal_double.core import API_KEY
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble
from tests.scaleout.conftest import wait_until

TRAINER = "fal-ai/flux-lora-portrait-trainer"
PEOPLE = 6
CAP_TRAININGS = 2  # a $5 cap pays for two $2 trainings


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "headshot", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def cap_env(
    scaleout_env: dict[str, str],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    extra = {
        "HEADSHOT_FAL_KEY": API_KEY,
        "HEADSHOT_FAL_QUEUE_URL": fal_double.queue_url,
        "HEADSHOT_FAL_REST_URL": fal_double.rest_url,
        "HEADSHOT_FAL_CDN_URL": fal_double.cdn_url,
        "HEADSHOT_FAL_API_URL": fal_double.api_url,
        "HEADSHOT_VALIDATION__MIN_PHOTOS": "3",
        "HEADSHOT_JOBS__FIRST_POLL_S": "0.3",
        "HEADSHOT_JOBS__MAX_POLL_S": "0.5",
        "HEADSHOT_QUOTAS__DAILY_SPEND_CAP_USD": "5",
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    yield {k: v for k, v in os.environ.items() if k != "bucket"}


def test_spend_cap_holds_with_two_servers_and_two_workers(
    cap_env: dict[str, str],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
    face_models: FaceModels,
) -> None:
    runtime = build_runtime(Settings(), face_models=face_models)
    runtime.huey.flush()
    ports = [_free_port(), _free_port()]
    processes = [
        *(_start(["serve", "--http", "--port", str(port)], cap_env) for port in ports),
        *(_start(["worker"], cap_env) for _ in range(2)),
    ]
    try:
        people: list[tuple[dict[str, str], str]] = []
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            for n in range(PEOPLE):
                headers = sign_up(client, f"racer{n}@example.com")
                people.append((headers, ready_session(client, headers, testdata)))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        assert wait_until(lambda: all(_ready(base) for base in bases), timeout=120)

        statuses: list[int] = []
        barrier = threading.Barrier(PEOPLE)

        def race(index: int) -> None:
            headers, session_id = people[index]
            url = f"{bases[index % 2]}{API}/sessions/{session_id}/trainings"
            barrier.wait()
            statuses.append(httpx.post(url, json={}, headers=headers, timeout=60).status_code)

        threads = [threading.Thread(target=race, args=(n,)) for n in range(PEOPLE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(statuses) == [202] * CAP_TRAININGS + [429] * (PEOPLE - CAP_TRAININGS)
        assert runtime.services.quotas.spent_today_usd() == 2.0 * CAP_TRAININGS
        assert wait_until(lambda: _succeeded(runtime) == CAP_TRAININGS, timeout=120)
        assert fal_double.billable_submits(TRAINER) == CAP_TRAININGS
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        runtime.close()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _succeeded(runtime: Runtime) -> int:
    with runtime.services.db.transaction() as db:
        query = select(func.count()).select_from(Training).where(Training.status == "succeeded")
        return int(db.scalar(query) or 0)
