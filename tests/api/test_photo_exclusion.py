"""Leaving a photo out: readiness recomputes at once, every photo has one status that agrees with
readiness and the batch list, and training never receives a photo that was left out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, SAME_PERSON

SOMEONE_ELSE = "pd_biden_blueroom_2010.jpg"
REFUSED = "d_obama_tiny_120.jpg"


@pytest.fixture
def client(make_services: Callable[..., Services]) -> Iterator[TestClient]:
    services = make_services(validation={"min_photos": 3})
    with TestClient(create_app(services), base_url="https://testserver") as test_client:
        yield test_client


def _upload(
    client: TestClient, headers: dict[str, str], testdata: Path
) -> tuple[str, dict[str, Any]]:
    session_id: str = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
    names = (*SAME_PERSON, SOMEONE_ELSE, REFUSED)
    files = [("files", (n, (testdata / n).read_bytes(), "image/jpeg")) for n in names]
    answer = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert answer.status_code == 201, answer.text
    return session_id, {p["filename"]: p for p in answer.json()["photos"]}


def _state(client: TestClient, headers: dict[str, str], session_id: str) -> tuple[Any, Any, Any]:
    readiness = client.get(f"{API}/sessions/{session_id}/readiness", headers=headers).json()
    photos = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()["photos"]
    session = client.get(f"{API}/sessions/{session_id}", headers=headers).json()
    return readiness, {p["filename"]: p["status"] for p in photos}, session


def test_statuses_agree_with_readiness_and_the_batch_list(
    client: TestClient, testdata: Path
) -> None:
    headers = sign_up(client, "statuses@example.com")
    session_id, uploaded = _upload(client, headers, testdata)

    readiness, statuses, session = _state(client, headers, session_id)

    assert uploaded[SOMEONE_ELSE]["status"] == "needs_attention"  # the upload answer agrees
    assert statuses == {
        **dict.fromkeys(SAME_PERSON, "usable"),
        SOMEONE_ELSE: "needs_attention",
        REFUSED: "refused",
    }
    # Another person's photo holds the set back until the person removes it or leaves it out.
    assert not readiness["ready"] and readiness["accepted_count"] == 3
    assert [f["code"] for f in readiness["findings"] if f["severity"] == "error"] == ["identity"]
    assert (session["usable_count"], session["required_count"]) == (3, 3)
    assert session["accepted_count"] == 4 and session["photo_count"] == 5
    listed = client.get(f"{API}/sessions", headers=headers).json()["sessions"][0]
    assert (listed["usable_count"], listed["required_count"]) == (3, 3)


def test_excluding_recomputes_readiness_and_keeps_the_photo_out_of_training(
    client: TestClient, testdata: Path
) -> None:
    headers = sign_up(client, "exclude@example.com")
    session_id, uploaded = _upload(client, headers, testdata)
    other = uploaded[SOMEONE_ELSE]["id"]
    own = uploaded[SAME_PERSON[0]]["id"]

    left_out = client.patch(f"{API}/photos/{other}", json={"excluded": True}, headers=headers)

    assert left_out.status_code == 200
    assert left_out.json()["excluded"] is True and left_out.json()["status"] == "excluded"
    readiness, statuses, _ = _state(client, headers, session_id)
    assert readiness["ready"] and not any(f["code"] == "identity" for f in readiness["findings"])
    assert statuses[SOMEONE_ELSE] == "excluded"

    client.patch(f"{API}/photos/{own}", json={"excluded": True}, headers=headers)
    readiness, statuses, session = _state(client, headers, session_id)
    assert not readiness["ready"] and readiness["accepted_count"] == 2
    assert session["usable_count"] == 2 and statuses[SAME_PERSON[0]] == "excluded"
    not_ready = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
    assert not_ready.status_code == 409

    back = client.patch(f"{API}/photos/{own}", json={"excluded": False}, headers=headers)
    assert back.json()["status"] == "usable"
    started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
    assert started.status_code == 202, started.text
    trained_on = set(started.json()["params"]["photo_ids"])
    assert trained_on == {uploaded[name]["id"] for name in SAME_PERSON}
    audit = client.get(f"{API}/me/audit", headers=headers).json()["items"]
    assert {"photo.exclude", "photo.include"} <= {e["action"] for e in audit}


def test_an_excluded_photo_is_not_trained_on(
    make_services: Callable[..., Services], testdata: Path
) -> None:
    services = make_services(validation={"min_photos": 2})
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "twoleft@example.com")
        session_id, uploaded = _upload(client, headers, testdata)
        dropped = uploaded[SAME_PERSON[2]]["id"]
        client.patch(f"{API}/photos/{dropped}", json={"excluded": True}, headers=headers)
        other = uploaded[SOMEONE_ELSE]["id"]  # another person's photo holds the set back
        client.patch(f"{API}/photos/{other}", json={"excluded": True}, headers=headers)

        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)

        assert started.status_code == 202, started.text
        assert dropped not in started.json()["params"]["photo_ids"]
        assert len(started.json()["params"]["photo_ids"]) == 2
        training = client.get(f"{API}/trainings/{started.json()['id']}", headers=headers).json()
        assert training["status"] == "succeeded", training


def test_unknown_batch_in_plain_words(client: TestClient) -> None:
    headers = sign_up(client, "plain@example.com")
    missing = client.get(f"{API}/sessions/{'0' * 32}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "This batch does not exist or was deleted."
