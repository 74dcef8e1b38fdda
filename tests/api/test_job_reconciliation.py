"""The reconciliation path of remote jobs against the fal double: lost generation looks are
settled (found, submitted again when fal's listing proves them absent, or given up within the
configured checks), a generation with some looks given up ends `partial` with its headshots
kept, and a lost training is never resubmitted: each of its give-up branches ends the training
with the operator message."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.remote_training import GAVE_UP
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session
from tests.api.test_pipeline_fal import GENERATOR, TRAINER, fal_runtime
from tests.clock import SettableClock
from tests.engines.helpers import training_request
from tests.fal_double.faults import Fault
from tests.fal_double.fixtures import (
    engine_for,
    fal_double,  # noqa: F401 (pytest fixture)
)
from tests.fal_double.server import FalDouble

LOOKS = [
    {"background": "office", "attire": "business-suit", "lighting": "rembrandt"},
    {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"},
]
# A 500 from fal's ingress (HTML, no request id): the submit may or may not have been taken.
INGRESS_500 = Fault("submit", "status", status=500, endpoint=GENERATOR)


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def trained(
    runtime: Runtime, client: TestClient, testdata: Path, email: str
) -> tuple[dict[str, str], str]:
    headers = sign_up(client, email)
    session_id = ready_session(client, headers, testdata)
    started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
    assert started.status_code == 202, started.text
    run_scheduled(runtime)
    training = client.get(f"{API}/trainings/{started.json()['id']}", headers=headers).json()
    assert training["status"] == "succeeded", training
    return headers, str(training["id"])


def generate(
    runtime: Runtime, client: TestClient, headers: dict[str, str], model_id: str
) -> dict[str, Any]:
    body = {"model_id": model_id, "looks": LOOKS, "images_per_look": 2, "seed": 3}
    started = client.post(f"{API}/generations", json=body, headers=headers)
    assert started.status_code == 202, started.text
    run_scheduled(runtime)
    result: dict[str, Any] = client.get(
        f"{API}/generations/{started.json()['id']}", headers=headers
    ).json()
    return result


def test_an_absent_look_is_submitted_again_once_and_the_generation_succeeds(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    clock: SettableClock,
    testdata: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, jobs={"listing_lag_s": 120})
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers, model_id = trained(runtime, client, testdata, "absent@example.com")
        fal_double.inject(INGRESS_500)
        body = {"model_id": model_id, "looks": LOOKS, "images_per_look": 2, "seed": 3}
        started = client.post(f"{API}/generations", json=body, headers=headers)
        generation_id = started.json()["id"]
        # Within the listing's lag, absence proves nothing: the look stays unsettled.
        clock.advance(seconds=60)
        runtime.services.generation_runs.run(generation_id)
        waiting = client.get(f"{API}/generations/{generation_id}", headers=headers).json()
        assert waiting["status"] == "running"
        assert fal_double.billable_submits(GENERATOR) == 1
        # After it, fal's listing still shows no such request: the look is submitted again.
        clock.advance(seconds=61)
        run_scheduled(runtime)
        result = client.get(f"{API}/generations/{generation_id}", headers=headers).json()
    assert result["status"] == "succeeded", result
    assert len(result["headshot_ids"]) == 4 and result["failed_looks"] == []
    assert fal_double.billable_submits(GENERATOR) == 2  # one per look: nothing billed twice
    generator_submits = [
        r for r in fal_double.received_on("submit") if r.path.endswith(f"/{GENERATOR}")
    ]
    assert len(generator_submits) == 3  # the lost one, the other look, the one resubmit
    assert fal_double.billable_submits(TRAINER) == 1


def test_with_the_listing_unreachable_the_job_ends_within_its_checks_and_keeps_what_was_made(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, jobs={"reconcile_attempts": 3})
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers, model_id = trained(runtime, client, testdata, "unreachable@example.com")
    # Now fal's Platform API (the request listing) is down; the queue API still answers.
    master_key = runtime.services.settings.master_key
    assert master_key is not None
    runtime = fal_runtime(
        make_runtime,
        fal_double,
        **SMALL_SET,
        jobs={"reconcile_attempts": 3},
        fal_api_url=closed_port_url(),
        master_key=master_key.get_secret_value(),  # the same deployment, restarted
    )
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        fal_double.inject(INGRESS_500)
        result = generate(runtime, client, headers, model_id)  # settles, or this raises
        gallery = client.get(f"{API}/headshots", headers=headers).json()
    assert result["status"] == "partial", (result["error"], result["failed_looks"])
    assert len(result["headshot_ids"]) == 2  # the other look was polled, fetched and kept
    assert {h["id"] for h in gallery["headshots"]} == set(result["headshot_ids"])
    (failed,) = result["failed_looks"]
    assert {k: failed[k] for k in ("background", "attire", "lighting")} == LOOKS[0]
    assert "could not confirm" in failed["reason"]
    assert result["error"].startswith("1 of 2 looks could not be made")
    assert fal_double.billable_submits(GENERATOR) == 1  # the lost look was never resent


def test_a_look_the_provider_fails_leaves_a_partial_generation_that_lists_its_headshots(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET)
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers, model_id = trained(runtime, client, testdata, "partial@example.com")
        fal_double.inject(Fault("submit", "fail_request", endpoint=GENERATOR))
        result = generate(runtime, client, headers, model_id)
        gallery = client.get(f"{API}/headshots", headers=headers).json()
    assert result["status"] == "partial", result
    assert len(result["headshot_ids"]) == 2 and len(gallery["headshots"]) == 2
    assert all(h["background"] == LOOKS[1]["background"] for h in gallery["headshots"])
    (failed,) = result["failed_looks"]
    assert failed["background"] == LOOKS[0]["background"] and failed["reason"]
    assert result["finished_at"] is not None


def lost_training(
    runtime: Runtime, client: TestClient, testdata: Path, email: str
) -> dict[str, Any]:
    headers = sign_up(client, email)
    session_id = ready_session(client, headers, testdata)
    started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
    assert started.status_code == 202, started.text
    run_scheduled(runtime)
    result: dict[str, Any] = client.get(
        f"{API}/trainings/{started.json()['id']}", headers=headers
    ).json()
    return result


def test_a_lost_training_absent_at_fal_is_handed_to_an_operator_not_resubmitted(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, jobs={"reconcile_attempts": 3})
    fal_double.inject(Fault("submit", "reset_before", endpoint=TRAINER))
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        result = lost_training(runtime, client, testdata, "absent-training@example.com")
    assert result["status"] == "failed" and result["error"] == GAVE_UP
    assert len(fal_double.received_on("list_requests")) == 3  # the configured checks, no more
    assert len([r for r in fal_double.received_on("submit") if r.path.endswith(f"/{TRAINER}")]) == 1


def test_a_lost_training_with_the_listing_unreachable_is_never_resubmitted(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
) -> None:
    runtime = fal_runtime(
        make_runtime,
        fal_double,
        **SMALL_SET,
        jobs={"reconcile_attempts": 3},
        fal_api_url=closed_port_url(),
    )
    fal_double.inject(Fault("submit", "reset_after", endpoint=TRAINER))  # billed, answer lost
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        result = lost_training(runtime, client, testdata, "no-listing@example.com")
    assert result["status"] == "failed" and result["error"] == GAVE_UP
    assert fal_double.billable_submits(TRAINER) == 1


def test_a_lost_training_with_several_candidates_is_not_claimed(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
) -> None:
    """Another instance on the same fal account trained at the same time: two unclaimed
    requests match, so neither is claimed and the training goes to an operator."""
    engine_for(fal_double).submit_training(training_request("another-instance"))
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, jobs={"reconcile_attempts": 3})
    fal_double.inject(Fault("submit", "reset_after", endpoint=TRAINER))
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        result = lost_training(runtime, client, testdata, "unclear@example.com")
    assert result["status"] == "failed" and result["error"] == GAVE_UP
    assert fal_double.billable_submits(TRAINER) == 2  # ours once, and the other instance's
