""" "Your model is ready" and "your headshots are ready" by mail, end to end through a loopback
SMTP server: sent once, never to people who turned them off, and a mail server that is down
never fails a job."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.wiring import Runtime
from tests.api.conftest import sign_up
from tests.api.mail_helpers import Inbox
from tests.api.pipeline_helpers import SMALL_SET, generation, ready_session, trained_model
from tests.api.test_retention import LOOK


def test_ready_notices_are_mailed_once_and_honour_the_opt_out(
    make_runtime: Callable[..., Runtime],
    testdata: Path,
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    runtime = make_runtime(
        **SMALL_SET,
        smtp_url=f"smtp://127.0.0.1:{port}",
        email_verification="off",  # only the notices under test arrive
        public_url="https://headshots.example.org",
    )
    services = runtime.services
    notices = services.job_notices
    assert notices is not None
    with TestClient(create_app(services), base_url="https://testserver") as client:
        wants = sign_up(client, "wants@example.com")
        quiet = sign_up(client, "quiet@example.com")
        assert client.get("/api/v1/me/notifications", headers=quiet).json() == {"email": True}
        off = client.put("/api/v1/me/notifications", json={"email": False}, headers=quiet)
        assert off.json() == {"email": False}
        for headers in (wants, quiet):
            model = trained_model(client, headers, ready_session(client, headers, testdata))
            generation(client, headers, model["id"], [LOOK], 1)

        assert notices.run() == 2  # what every maintenance tick runs
        assert notices.run() == 0  # once only
    subjects = sorted((m["To"], m["Subject"]) for m in handler.messages)
    assert subjects == [
        ("wants@example.com", "Your Headshot model is ready"),
        ("wants@example.com", "Your headshots are ready"),
    ]
    body = handler.messages[0].get_payload()
    assert "https://headshots.example.org" in body and "/api/" not in body


def test_a_mail_server_that_is_down_never_fails_the_job(
    make_runtime: Callable[..., Runtime], testdata: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    runtime = make_runtime(**SMALL_SET, smtp_url=f"smtp://127.0.0.1:{port}")
    notices = runtime.services.job_notices
    assert notices is not None
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers = sign_up(client, "someone@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))
        assert notices.run() == 0
        again = client.get(f"/api/v1/trainings/{model['id']}", headers=headers).json()
    assert again["status"] == "succeeded"
