"""Every job ends: a task whose retries are spent leaves its job failed (or partial, keeping the
headshots made) with a plain reason, whatever the job kind. And a call the provider did not
take is replayed with exponential, jittered waits that honour its Retry-After."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.domain.culling import CullCandidate
from headshot.jobs.tasks import GAVE_UP
from headshot.storage.records import Training
from headshot.wiring import Runtime, make_job_runs
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session, trained_model
from tests.api.test_pipeline_fal import TRAINER, fal_runtime
from tests.clock import SettableClock
from tests.fal_double.faults import Fault
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble

LOOKS = [
    {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"},
    {"background": "office", "attire": "as-is", "lighting": "rembrandt"},
]


class RecordingQueueDouble:
    """A job queue that only records what would have been enqueued, and when."""

    def __init__(self) -> None:
        self.trainings: list[tuple[str, float]] = []
        self.generations: list[tuple[str, float]] = []

    def run_training(self, training_id: str, *, delay_s: float = 0) -> None:
        self.trainings.append((training_id, delay_s))

    def run_generation(self, generation_id: str, *, delay_s: float = 0) -> None:
        self.generations.append((generation_id, delay_s))


def test_a_generation_whose_task_keeps_failing_ends_partial_with_its_headshots(
    make_runtime: Callable[..., Runtime], testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = make_runtime(**SMALL_SET)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "ends@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))
        scored: list[bytes] = []
        real_candidate = services.likeness.candidate
        first_look = services.settings.generation.overgenerate_studio  # its candidates

        def score_then_fail(
            number: str, image: bytes, references: Sequence[Sequence[float]], **kw: float | None
        ) -> CullCandidate:
            # The likeness step refuses every candidate after the first look's (as a false
            # "polyglot" finding did under load): the task fails on every retry.
            if len(scored) >= first_look:
                raise ValueError("the file holds other data inside the image")
            scored.append(image)
            return real_candidate(number, image, references, **kw)

        monkeypatch.setattr(services.likeness, "candidate", score_then_fail)
        body = {"model_id": model["id"], "looks": LOOKS, "images_per_look": 1}
        started = client.post(f"{API}/generations", json=body, headers=headers)
        assert started.status_code == 202
        run_scheduled(runtime)  # Huey's retries run, and fail
        result = client.get(f"{API}/generations/{started.json()['id']}", headers=headers).json()
        gallery = client.get(f"{API}/headshots", headers=headers).json()["headshots"]
    assert result["status"] == "partial", result
    assert result["error"] == GAVE_UP and result["finished_at"] is not None
    assert len(result["headshot_ids"]) == 1
    assert [h["id"] for h in gallery] == result["headshot_ids"]  # what was made stays visible


def test_a_training_whose_task_keeps_failing_ends_failed_with_a_reason(
    make_runtime: Callable[..., Runtime], testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = make_runtime(**SMALL_SET)
    services = runtime.services

    def broken(*args: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(services.engines.local["studio"], "train", broken)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "ends-training@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(
            f"{API}/sessions/{session_id}/trainings", json={"engine": "studio"}, headers=headers
        )
        run_scheduled(runtime)
        result = client.get(f"{API}/trainings/{started.json()['id']}", headers=headers).json()
    assert result["status"] == "failed" and result["error"] == GAVE_UP


def test_a_submit_fal_does_not_take_is_replayed_with_backoff_and_retry_after(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    clock: SettableClock,
    testdata: Path,
) -> None:
    runtime = fal_runtime(
        make_runtime, fal_double, **SMALL_SET, jobs={"retry_s": 30, "retry_max_s": 200}
    )
    services = runtime.services
    queue = RecordingQueueDouble()
    runs, _ = make_job_runs(
        services.settings,
        services.engines,
        db=services.db,
        blobs=services.blobs,
        likeness=services.likeness,
        audit=services.audit,
        queue=queue,
        clock=clock,
        draw=lambda: 0.5,  # three quarters of the exponential wait
    )
    busy = Fault("submit", "status", status=503, endpoint=TRAINER, times=3)
    fal_double.inject(busy)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "backoff@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        training_id = started.json()["id"]
        assert started.json()["status"] == "queued"  # the first 503, from the inline task
        runs.run(training_id)  # second 503
        runs.run(training_id)  # third 503
        fal_double.inject(
            Fault("submit", "status", status=429, retry_after="500", endpoint=TRAINER)
        )
        runs.run(training_id)  # 429 with Retry-After: 500 s
        runs.run(training_id)  # taken
    delays = [delay for _, delay in queue.trainings]
    # 30·2¹·¾, 30·2²·¾, then capped at 200·¾ but never sooner than fal's Retry-After.
    assert delays[:3] == [45.0, 90.0, 500.0]
    assert delays[3] == services.settings.jobs.first_poll_s  # submitted: the first poll
    with services.db.transaction() as db:
        row = db.get(Training, training_id)
        assert row is not None and row.status == "running"
        assert "retries" not in (row.provider_handle or {})  # reset once fal took it
    assert fal_double.billable_submits(TRAINER) == 1


def test_a_generation_whose_task_was_lost_is_enqueued_again_once_stale(
    make_runtime: Callable[..., Runtime],
    clock: SettableClock,
    testdata: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime(**SMALL_SET)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "lost@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))

        def lost_task(generation_id: str, *, delay_s: float = 0) -> None:
            del generation_id, delay_s  # the worker died with the task: nothing runs it

        with monkeypatch.context() as lost:
            lost.setattr(services.queue, "run_generation", lost_task)
            body = {"model_id": model["id"], "looks": LOOKS[:1], "images_per_look": 1}
            generation_id = client.post(f"{API}/generations", json=body, headers=headers).json()[
                "id"
            ]
        runtime.tasks.run_maintenance()
        url = f"{API}/generations/{generation_id}"
        assert client.get(url, headers=headers).json()["status"] == "queued"  # not stale yet
        clock.advance(seconds=services.settings.jobs.stale_after_s + 1)
        runtime.tasks.run_maintenance()
        result = client.get(url, headers=headers).json()
    assert result["status"] == "succeeded" and len(result["headshot_ids"]) == 1
