"""Per-person quotas and the daily spend cap, on SQLite and PostgreSQL, against the fal double:
a refused start answers 429 with when it resets, and nothing reaches fal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.api.app import create_app
from headshot.storage.records import AuditEntry, UsageEntry
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.mail_helpers import Inbox
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session
from tests.api.test_pipeline_fal import GENERATOR, TRAINER, fal_runtime
from tests.api.test_provider_keys import make_operator
from tests.api.test_signup import login
from tests.clock import SettableClock
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble

LOOK = {"background": "office", "attire": "business-suit", "lighting": "rembrandt"}


def start_training(client: TestClient, headers: dict[str, str], session_id: str) -> Any:
    return client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)


def start_generation(
    client: TestClient, headers: dict[str, str], model_id: str, looks: int, per_look: int
) -> Any:
    body = {"model_id": model_id, "looks": [LOOK] * looks, "images_per_look": per_look}
    return client.post(f"{API}/generations", json=body, headers=headers)


def test_over_quota_is_refused_and_nothing_reaches_fal(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
    clock: SettableClock,
) -> None:
    runtime = fal_runtime(
        make_runtime,
        fal_double,
        **SMALL_SET,
        quotas={"trainings_per_period": 1, "images_per_period": 4},
    )
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers = sign_up(client, "busy@example.com")
        session_id = ready_session(client, headers, testdata)
        first = start_training(client, headers, session_id)
        assert first.status_code == 202, first.text
        run_scheduled(runtime)
        assert fal_double.billable_submits(TRAINER) == 1
        calls = len(fal_double.received)

        again = start_training(client, headers, session_id)
        assert again.status_code == 429
        error = again.json()["error"]
        assert error["code"] == "quota_exceeded"
        assert "1 of your 1 trainings" in error["message"]
        assert again.headers["Retry-After"] == str(30 * 24 * 3600)
        assert error["details"]["resets_at"].startswith("2026-12-01")

        too_many = start_generation(client, headers, first.json()["id"], looks=3, per_look=2)
        assert too_many.status_code == 429 and "0 of your 4 headshots" in too_many.text
        assert len(fal_double.received) == calls  # not one request to fal for refused work
        assert fal_double.billable_submits(GENERATOR) == 0

        fits = start_generation(client, headers, first.json()["id"], looks=2, per_look=2)
        assert fits.status_code == 202, fits.text
        with runtime.services.db.transaction() as db:
            entry = db.scalars(select(UsageEntry).where(UsageEntry.kind == "image")).one()
            # The person is charged the 4 headshots they see; the spend estimate counts the
            # 4 x 2 candidates fal makes and bills for them to be culled.
            assert entry.amount == 4
            price = runtime.services.settings.quotas.prices_usd["fal.image"]
            factor = runtime.services.settings.generation.overgenerate_fal
            assert entry.cost_micro_usd == round(price * 4 * factor * 1_000_000)
        clock.advance(days=30, seconds=1)  # the first training leaves the window
        headers = login(client, "busy@example.com")  # the login session itself has expired
        assert start_training(client, headers, session_id).status_code == 202


def test_operator_overrides_a_persons_limits(
    make_runtime: Callable[..., Runtime], testdata: Path
) -> None:
    runtime = make_runtime(validation={"min_photos": 3}, quotas={"trainings_per_period": 1})
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        operator = sign_up(client, "ops@example.com")
        make_operator(services, "ops@example.com")
        headers = sign_up(client, "vip@example.com")
        session_id = ready_session(client, headers, testdata)
        body = {"engine": "studio"}
        url = f"{API}/sessions/{session_id}/trainings"
        assert client.post(url, json=body, headers=headers).status_code == 202
        assert client.post(url, json=body, headers=headers).status_code == 429

        quota = {"email": "vip@example.com", "trainings_per_period": 3}
        changed = client.put(f"{API}/admin/quotas", json=quota, headers=operator)
        assert changed.status_code == 200, changed.text
        assert changed.json()["trainings_limit"] == 3 and changed.json()["trainings_used"] == 1
        assert client.post(url, json=body, headers=headers).status_code == 202
        own = client.get(f"{API}/me/quota", headers=headers).json()
        assert (own["trainings_used"], own["trainings_limit"]) == (2, 3)
        shown = client.get(
            f"{API}/admin/quotas", params={"email": "vip@example.com"}, headers=operator
        )
        assert shown.json()["trainings_used"] == 2 and shown.json()["overridden"] is True
        assert (
            client.get(
                f"{API}/admin/quotas", params={"email": "x@y.z"}, headers=headers
            ).status_code
            == 404
        )


def test_spend_cap_refuses_paid_work_and_tells_the_operator_once(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    testdata: Path,
    clock: SettableClock,
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    runtime = fal_runtime(
        make_runtime,
        fal_double,
        **SMALL_SET,
        smtp_url=f"smtp://127.0.0.1:{port}",
        email_verification="off",  # only the notices under test arrive
        quotas={"daily_spend_cap_usd": 3.0, "operator_email": "ops@example.org"},
    )
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        people = [sign_up(client, f"p{n}@example.com") for n in range(2)]
        sessions = [ready_session(client, headers, testdata) for headers in people]
        assert start_training(client, people[0], sessions[0]).status_code == 202  # $2 of $3
        for headers, session_id in zip(people * 2, sessions * 2, strict=True):
            refused = start_training(client, headers, session_id)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "spend_cap_reached"
            assert refused.headers["Retry-After"] == str(12 * 3600)  # clock at 12:00 UTC
        run_scheduled(runtime)
        assert fal_double.billable_submits(TRAINER) == 1
        assert services.quotas.spent_today_usd() == 2.0  # refused starts were rolled back

        assert [m["To"] for m in handler.messages] == ["ops@example.org"]
        assert "spend cap" in handler.messages[0]["Subject"]
        with services.db.transaction() as db:
            actions = db.scalars(select(AuditEntry.action)).all()
        assert actions.count("spend_cap.reached") == 1

        clock.advance(hours=12)  # a new UTC day
        assert start_training(client, people[1], sessions[1]).status_code == 202
