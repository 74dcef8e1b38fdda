"""A scrape of a `headshot serve` process after trainings run by two `headshot worker`
processes, with provider faults injected, agrees with the records: outcomes, failure rate,
run-time and photo-latency histograms."""

from __future__ import annotations

import math
import signal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.api.app import create_app
from headshot.domain.jobs import TERMINAL
from headshot.imaging.models import FaceModels
from headshot.settings import Settings
from headshot.storage.records import Photo, Training
from headshot.wiring import Runtime, build_runtime
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, ready_session
from tests.api.test_product_metrics import samples
from tests.e2e.test_serve import _free_port
from tests.fal_double.faults import Fault
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble
from tests.scaleout.conftest import wait_until
from tests.scaleout.test_spend_cap_race import TRAINER, _ready, _start, cap_env  # noqa: F401

TOKEN = "scrape-token-for-the-scaleout-test"
PEOPLE = 4


def test_scrape_matches_the_records_after_faulty_trainings(
    cap_env: dict[str, str],  # noqa: F811 (the imported pytest fixture)
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
    face_models: FaceModels,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = {"HEADSHOT_METRICS_TOKEN": TOKEN, "HEADSHOT_QUOTAS__DAILY_SPEND_CAP_USD": "0"}
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    env = {**cap_env, **extra}
    # Two trainings the provider accepts and then fails.
    fal_double.inject(Fault(route="submit", kind="fail_request", times=2, endpoint=TRAINER))
    runtime = build_runtime(Settings(), face_models=face_models)
    runtime.huey.flush()
    port = _free_port()
    processes = [_start(["serve", "--http", "--port", str(port)], env)]
    processes += [_start(["worker"], env) for _ in range(2)]
    try:
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            for n in range(PEOPLE):
                headers = sign_up(client, f"scrape{n}@example.com")
                session_id = ready_session(client, headers, testdata)
                url = f"{API}/sessions/{session_id}/trainings"
                assert client.post(url, json={}, headers=headers).status_code == 202
        assert wait_until(lambda: _finished(runtime) == PEOPLE, timeout=180)
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: _ready(base), timeout=120)
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
        text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    scraped = samples(text)
    trainings, photos = _records(runtime)
    runtime.close()

    def outcome(name: str) -> float:
        return scraped[("headshot_jobs_finished", (("kind", "training"), ("outcome", name)))]

    failed_at_provider = [t for t in trainings if t.status == "failed" and t.provider_request_id]
    assert outcome("failed_provider") == len(failed_at_provider) == 2
    assert outcome("succeeded") == sum(t.status == "succeeded" for t in trainings) == 2
    assert outcome("failed_ours") == 0
    assert scraped[("headshot_training_failure_rate", ())] == 0.0

    runs = [
        (t.finished_at - t.started_at).total_seconds()
        for t in trainings
        if t.started_at and t.finished_at
    ]
    assert len(runs) == PEOPLE
    run_count = scraped[("headshot_job_run_seconds_count", (("kind", "training"),))]
    run_sum = scraped[("headshot_job_run_seconds_sum", (("kind", "training"),))]
    assert run_count == len(runs) and math.isclose(run_sum, sum(runs), rel_tol=1e-6)

    latencies = [p.processing_s for p in photos if p.processing_s is not None]
    assert len(latencies) == len(photos) == 3 * PEOPLE
    assert scraped[("headshot_photo_processing_seconds_count", ())] == len(latencies)
    assert math.isclose(
        scraped[("headshot_photo_processing_seconds_sum", ())], sum(latencies), rel_tol=1e-6
    )
    under_2s = scraped[("headshot_photo_processing_seconds_bucket", (("le", "2.0"),))]
    assert under_2s == sum(v <= 2.0 for v in latencies)


def _finished(runtime: Runtime) -> int:
    with runtime.services.db.transaction() as db:
        return sum(status in TERMINAL for status in db.scalars(select(Training.status)))


def _records(runtime: Runtime) -> tuple[list[Training], list[Photo]]:
    with runtime.services.db.transaction() as db:
        return list(db.scalars(select(Training))), list(db.scalars(select(Photo)))
