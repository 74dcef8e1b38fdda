"""Admission control: bounded photo checks in their own threads, a bounded wait, a server-wide
byte budget, and 503 + Retry-After beyond them."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from headshot.api.admission import UploadAdmission
from headshot.api.app import create_app
from headshot.domain.errors import ServerBusyError
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.photo_helpers import portrait_bytes

API = "/api/v1"


def _admission(max_wait_s: float = 1.5, **overrides: int) -> UploadAdmission:
    values = {
        "workers": 1,
        "queue": 1,
        "max_bytes": 100,
        "max_spool_bytes": 1000,
        "retry_after_s": 3,
        **overrides,
    }
    return UploadAdmission(**values, max_wait_s=max_wait_s)


def test_uploads_beyond_the_checks_and_their_queue_are_refused() -> None:
    admission = _admission(workers=1, queue=1)
    with admission.admit(0), admission.admit(0):
        with pytest.raises(ServerBusyError) as busy, admission.admit(0):
            pass
        assert busy.value.retry_after_s == 3
    with admission.admit(0):
        assert admission.admitted == 1


def test_uploads_are_let_in_only_while_their_expected_wait_is_short() -> None:
    admission = _admission(workers=2, queue=50, max_wait_s=1.4)

    async def checks(seconds: float, count: int) -> None:
        for _ in range(count):
            await admission.check(lambda: time.sleep(seconds))

    anyio.run(checks, 0.3, 12)  # the running average follows the measured checks
    assert 0.25 < admission.check_s < 0.45
    admission.check_s = 0.3  # exactly, whatever this machine's sleep overshoot
    with contextlib.ExitStack() as held:
        for _ in range(10):  # two checking, eight waiting
            held.enter_context(admission.admit(0))
        assert admission.expected_wait_s() == pytest.approx(1.35)  # 9 ahead x 0.3 s / 2
        held.enter_context(admission.admit(0))
        with pytest.raises(ServerBusyError), admission.admit(0):
            pass  # the twelfth would wait 1.5 s: refused at once, not queued
    anyio.run(checks, 0.01, 30)  # faster checks (smaller photos) let more wait
    with contextlib.ExitStack() as held:
        for _ in range(30):
            held.enter_context(admission.admit(0))
    admission.close()


def test_upload_bytes_in_memory_share_one_budget_but_one_upload_always_fits() -> None:
    admission = _admission(workers=4, queue=0, max_bytes=100)
    with admission.admit(0) as alone:
        alone.hold(memory=500, disk=0)  # alone: the per-request limits bound it
        assert admission.held_bytes == 500
    with admission.admit(0) as first, admission.admit(0) as second:
        first.hold(memory=80, disk=0)
        second.hold(memory=20, disk=0)
        with pytest.raises(ServerBusyError):
            second.hold(memory=21, disk=0)
        first.hold(memory=10, disk=0)  # spilled to disk: memory given back
        second.hold(memory=90, disk=0)
        assert admission.held_bytes == 100
    assert admission.held_bytes == 0 and admission.admitted == 0


def test_spooled_bytes_share_another_budget_with_the_declared_size_reserved() -> None:
    admission = _admission(workers=4, queue=0, max_bytes=100, max_spool_bytes=1000)
    with admission.admit(5000) as alone:
        assert alone.disk == 5000  # alone: the per-request limits bound it
    with admission.admit(600) as first:
        first.hold(memory=0, disk=100)
        assert first.disk == 600, "the declared size stays reserved"
        with pytest.raises(ServerBusyError) as busy, admission.admit(500):
            pass
        assert busy.value.retry_after_s == 3
        with admission.admit(0) as second:
            second.hold(memory=0, disk=400)
            with pytest.raises(ServerBusyError):
                second.hold(memory=0, disk=401)
            assert admission.spooled_bytes == 1000
        first.hold(memory=0, disk=900)
        assert admission.spooled_bytes == 900
    assert admission.spooled_bytes == 0 and admission.admitted == 0


def test_checks_run_bounded_and_apart_from_light_requests() -> None:
    admission = _admission(workers=2, queue=10)
    running, most = 0, 0
    lock = threading.Lock()
    release = threading.Event()

    def check() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1

    async def scenario() -> float:
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(admission.check, check)
            await anyio.sleep(0.2)
            started = time.monotonic()
            # A light request's thread work is not queued behind the blocked checks.
            await anyio.to_thread.run_sync(lambda: None)
            waited = time.monotonic() - started
            release.set()
        return waited

    waited = anyio.run(scenario)
    assert most == 2 and waited < 1.0


def test_checks_always_run_on_the_same_few_threads_with_the_callers_context() -> None:
    # Each thread that decodes photos keeps its own malloc arena: checks spread over the
    # default pool's 40 threads took the server past 1 GB.
    admission = _admission(workers=2, queue=50)
    request = contextvars.ContextVar("request", default="none")
    seen: list[tuple[str, str]] = []

    def check() -> None:
        time.sleep(0.005)
        seen.append((threading.current_thread().name, request.get()))

    async def one(number: int) -> None:
        request.set(f"r{number}")
        await admission.check(check)

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            for number in range(30):
                group.start_soon(one, number)

    anyio.run(scenario)
    admission.close()
    threads = {name for name, _ in seen}
    assert len(threads) <= 2 and all(name.startswith("photo-check") for name in threads)
    assert sorted(context for _, context in seen) == sorted(f"r{n}" for n in range(30))


def test_a_busy_server_answers_503_with_retry_after(
    make_services: Callable[..., Services], testdata: Path
) -> None:
    services = make_services(uploads={"check_workers": 1, "check_queue": 0})
    app = create_app(services)
    with TestClient(app, base_url="https://testserver") as client:
        headers = sign_up(client, "busy@example.com")
        session_id = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
        files = [("files", ("me.jpg", portrait_bytes(testdata), "image/jpeg"))]
        url = f"{API}/sessions/{session_id}/photos"
        with app.state.admission.admit(0):  # every check slot taken
            busy = client.post(url, files=files, headers=headers)
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "3"
            assert busy.json()["error"]["code"] == "busy"
            readiness = client.get(f"{API}/sessions/{session_id}/readiness", headers=headers)
            assert readiness.status_code == 200
        assert client.post(url, files=files, headers=headers).status_code == 201
        assert app.state.admission.admitted == 0 and app.state.admission.held_bytes == 0
