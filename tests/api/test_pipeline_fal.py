"""The flow through the REST API on the fal engine, against the fal HTTP double on loopback:
training (submit once, poll with backoff, fetch and keep our own encrypted LoRA), then
generation of looks on the trained model."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.storage.records import Training
from headshot.storage.vault import Vault
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, person_session
from tests.fal_double.core import API_KEY
from tests.fal_double.faults import Fault, FaultPlan, Route
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble

TRAINER = "fal-ai/flux-lora-portrait-trainer"
GENERATOR = "fal-ai/flux-lora"


def fal_runtime(make_runtime: Callable[..., Runtime], double: FalDouble, **extra: Any) -> Runtime:
    """A runtime on the fal double; `extra` settings win (e.g. a `fal_api_url` that is down)."""
    values: dict[str, Any] = {
        "fal_key": API_KEY,
        "fal_queue_url": double.queue_url,
        "fal_rest_url": double.rest_url,
        "fal_cdn_url": double.cdn_url,
        "fal_api_url": double.api_url,
    }
    return make_runtime(**{**values, **extra})


def test_fal_training_and_generation(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    person: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "fal@example.com")
        session_id = person_session(client, headers, person)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        assert started.status_code == 202, started.text
        assert started.json()["engine"] == "fal"
        training_id = started.json()["id"]
        running = client.get(f"{API}/trainings/{training_id}", headers=headers).json()
        assert running["status"] == "running"

        run_scheduled(runtime)
        done = client.get(f"{API}/trainings/{training_id}", headers=headers).json()
        assert done["status"] == "succeeded", done
        assert done["progress"] == 1.0 and done["weights_sha256"]
        assert fal_double.billable_submits(TRAINER) == 1
        request_id = next(iter(fal_double.requests))
        submitted = fal_double.requests[request_id]
        assert submitted.input["steps"] == 2000 and submitted.input["trigger_phrase"] == "hsperson"
        # The zip holds the 13 suitable photos of the 16 (not the speaking frames, not the
        # photos looking away or shot from above), each with its caption.
        images = [n for n in fal_double.archive(request_id) if n.endswith(".jpg")]
        assert len(images) == 13

        with services.db.transaction() as db:
            row = db.get(Training, training_id)
            assert row is not None and row.weights_key
            owner, key = row.user_id, row.weights_key
        vault = services.blobs
        assert isinstance(vault, Vault)
        weights = vault.read(owner, key)
        assert hashlib.sha256(weights).hexdigest() == done["weights_sha256"]
        assert vault.read_raw(owner, key) != weights  # stored encrypted

        looks = [
            {"background": "office", "attire": "business-suit", "lighting": "rembrandt"},
            {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"},
            {"background": "city", "attire": "creative", "lighting": "dramatic"},
        ]
        body = {"model_id": training_id, "looks": looks, "images_per_look": 2, "seed": 11}
        generation = client.post(f"{API}/generations", json=body, headers=headers)
        assert generation.status_code == 202, generation.text
        run_scheduled(runtime)
        result = client.get(f"{API}/generations/{generation.json()['id']}", headers=headers).json()
        assert result["status"] == "succeeded", result
        assert len(result["headshot_ids"]) == 6
        # Over-generate and cull: one billed submit per look asks for every candidate at once
        # (2 shown times the fal factor); nothing is asked for, or billed, twice.
        assert fal_double.billable_submits(GENERATOR) == 3
        factor = services.settings.generation.overgenerate_fal
        asked = [
            r.input["num_images"] for r in fal_double.requests.values() if r.endpoint == GENERATOR
        ]
        assert asked == [2 * factor] * 3
        gallery = client.get(f"{API}/headshots", headers=headers).json()["headshots"]
        assert len(gallery) == 6
        # The double renders the trained person: every headshot gets a real likeness score.
        threshold = services.settings.likeness_threshold
        assert all(h["likeness"] is not None and h["likeness"] > threshold for h in gallery)
        assert not any(h["flagged"] for h in gallery)
        # Provider-side copies minimised (privacy): no request history at fal, short expiries.
        submits = fal_double.received_on("submit")
        assert submits and all(r.headers.get("x-fal-store-io") == "0" for r in submits)
        assert all(r.headers.get("x-fal-object-lifecycle-preference") for r in submits)
        assert fal_double.uploads and all(u.lifecycle for u in fal_double.uploads)


def test_flow_completes_under_thirty_percent_faults(
    make_runtime: Callable[..., Runtime], person: Path
) -> None:
    """Seeded faults on every route (busy, 5xx, resets before and after the request is taken,
    slow answers): the training and the generation still finish, and fal billed exactly one
    training submit."""
    routes: tuple[Route, ...] = (
        "submit",
        "status",
        "result",
        "token",
        "cdn_upload",
        "download",
        "list_requests",
    )
    kinds: list[Fault] = []
    for route in routes:
        kinds += [
            Fault(route, "status", status=429, retry_after="1", times=0, probability=0.1),
            Fault(route, "status", status=503, times=0, probability=0.1),
            Fault(route, "reset_before", times=0, probability=0.05),
            Fault(route, "slow", delay_s=0.02, times=0, probability=0.05),
        ]
    kinds.append(Fault("submit", "reset_after", times=2, probability=1.0, endpoint=TRAINER))
    double = FalDouble.start(seed=7, faults=FaultPlan(tuple(kinds)))
    try:
        runtime = fal_runtime(make_runtime, double)
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            headers = sign_up(client, "faults@example.com")
            session_id = person_session(client, headers, person)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            assert started.status_code == 202, started.text
            run_scheduled(runtime)
            training = client.get(f"{API}/trainings/{started.json()['id']}", headers=headers).json()
            assert training["status"] == "succeeded", training
            assert double.billable_submits(TRAINER) == 1

            look = {"background": "charcoal", "attire": "blazer-open", "lighting": "high-key"}
            body = {"model_id": training["id"], "looks": [look], "images_per_look": 2}
            generation = client.post(f"{API}/generations", json=body, headers=headers)
            run_scheduled(runtime)
            result = client.get(f"{API}/generations/{generation.json()['id']}", headers=headers)
            assert result.json()["status"] == "succeeded", result.json()
            assert double.billable_submits(GENERATOR) == 1
    finally:
        double.stop()


def test_key_rotation_while_a_training_runs(
    make_runtime: Callable[..., Runtime], person: Path
) -> None:
    """A new key arrives mid-training: the training finishes on its own key, and new work
    (the generation that follows) is submitted with the new key."""
    new_key = "rotated-key:rotated-secret"
    keys = {API_KEY: "API", new_key: "API", "double-admin:admin-secret": "ADMIN"}
    double = FalDouble.start(seed=5, keys=keys)
    try:
        runtime = fal_runtime(make_runtime, double)
        services = runtime.services
        with TestClient(create_app(services), base_url="https://testserver") as client:
            headers = sign_up(client, "rotate@example.com")
            session_id = person_session(client, headers, person)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            training_id = started.json()["id"]
            assert started.json()["status"] == "running"  # submitted on the first key

            services.provider_keys.add(new_key, label="rotated")  # the first key now retires
            run_scheduled(runtime)
            done = client.get(f"{API}/trainings/{training_id}", headers=headers).json()
            assert done["status"] == "succeeded", done
            polls = double.received_on("status")
            assert polls and all("double-key:" in r.headers.get("authorization", "") for r in polls)

            look = {"background": "studio-white", "attire": "as-is", "lighting": "high-key"}
            body = {"model_id": training_id, "looks": [look], "images_per_look": 1}
            client.post(f"{API}/generations", json=body, headers=headers)
            run_scheduled(runtime)
        submits = [r for r in double.received_on("submit") if r.path.endswith(f"/{GENERATOR}")]
        assert submits and all(
            "rotated-key:" in r.headers.get("authorization", "") for r in submits
        )
        assert double.billable_submits(TRAINER) == 1
    finally:
        double.stop()


def test_a_refused_key_fails_over_to_the_next(
    make_runtime: Callable[..., Runtime], person: Path
) -> None:
    """fal answers 401 for the active key: it is marked rejected, nothing was billed, and the
    training is replayed on the next usable key."""
    spare = "spare-key:spare-secret"
    double = FalDouble.start(seed=9, keys={spare: "API"})  # the configured key is unknown there
    try:
        runtime = fal_runtime(make_runtime, double)
        services = runtime.services
        services.provider_keys.add(spare, label="spare")
        services.provider_keys.add(API_KEY, label="primary")  # active; the spare now retires
        with TestClient(create_app(services), base_url="https://testserver") as client:
            headers = sign_up(client, "failover@example.com")
            session_id = person_session(client, headers, person)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            assert started.json()["status"] == "queued"  # refused, waiting to be replayed
            run_scheduled(runtime)
            done = client.get(f"{API}/trainings/{started.json()['id']}", headers=headers).json()
        assert done["status"] == "succeeded", done
        states = {k.label: k.state for k in services.provider_keys.list()}
        assert states == {"primary": "rejected", "spare": "retiring"}
        assert double.billable_submits(TRAINER) == 1
    finally:
        double.stop()


def test_signed_webhooks_advance_the_job_and_forgeries_are_refused(
    make_runtime: Callable[..., Runtime], person: Path
) -> None:
    double = FalDouble.start(seed=4)
    try:
        runtime = fal_runtime(make_runtime, double, public_url="https://headshot.example")
        with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
            headers = sign_up(client, "hooks@example.com")
            session_id = person_session(client, headers, person)
            started = client.post(
                f"{API}/sessions/{session_id}/trainings", json={}, headers=headers
            )
            training_id = started.json()["id"]
            # The double keeps its own calendar; fal signs with real time, which we check.
            double.clock.advance(time.time() - double.clock.now())
            double.complete_all()
            assert double.webhooks, "fal would send a notice to our webhook URL"
            notice = double.webhooks[-1]
            url = urlsplit(notice.url)
            assert url.netloc == "headshot.example" and f"job={training_id}" in url.query
            path = f"{url.path}?{url.query}"
            forged = client.post(path, content=notice.body + b" ", headers=notice.headers)
            assert forged.status_code == 401
            assert (
                client.get(f"{API}/trainings/{training_id}", headers=headers).json()["status"]
                == "running"
            )
            accepted = client.post(path, content=notice.body, headers=notice.headers)
            assert accepted.status_code == 200
            # The notice ran the next step at once, without waiting for the scheduled poll.
            done = client.get(f"{API}/trainings/{training_id}", headers=headers).json()
            assert done["status"] == "succeeded", done
            assert double.billable_submits(TRAINER) == 1
    finally:
        double.stop()
