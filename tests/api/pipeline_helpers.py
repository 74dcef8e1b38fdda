"""A trained model and generated headshots for API tests, with the offline studio engine.

`person_session` uploads testdata/person (16 photos of one person) and needs no shortcut: the set
is ready at the default minimum of 10. `ready_session` uploads three photos from testdata/faces
for tests about something else than the set, which lower the minimum to three (`SMALL_SET`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"
SAME_PERSON = (
    "pd_obama_portrait_2012.jpg",
    "pd_obama_blueroom_2010.jpg",
    "pd_obama_congress_2009.jpg",
)
SMALL_SET = {"validation": {"min_photos": 3}}


def ready_session(client: TestClient, headers: dict[str, str], testdata: Path) -> str:
    session_id: str = client.post(f"{API}/sessions", json={"name": "Me"}, headers=headers).json()[
        "id"
    ]
    files = [
        ("files", (name, (testdata / name).read_bytes(), "image/jpeg")) for name in SAME_PERSON
    ]
    upload = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert upload.status_code == 201, upload.text
    readiness = client.get(f"{API}/sessions/{session_id}/readiness", headers=headers).json()
    assert readiness["ready"], readiness
    return session_id


def person_session(client: TestClient, headers: dict[str, str], person: Path) -> str:
    """A session holding every photo of testdata/person, ready at the default minimum."""
    session_id: str = client.post(f"{API}/sessions", json={"name": "Me"}, headers=headers).json()[
        "id"
    ]
    files = [
        ("files", (path.name, path.read_bytes(), "image/jpeg"))
        for path in sorted(person.glob("*.jpg"))
    ]
    upload = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert upload.status_code == 201, upload.text
    readiness = client.get(f"{API}/sessions/{session_id}/readiness", headers=headers).json()
    assert readiness["ready"] and readiness["required_count"] == 10, readiness
    return session_id


def trained_model(client: TestClient, headers: dict[str, str], session_id: str) -> dict[str, Any]:
    started = client.post(
        f"{API}/sessions/{session_id}/trainings", json={"engine": "studio"}, headers=headers
    )
    assert started.status_code == 202, started.text
    training: dict[str, Any] = client.get(
        f"{API}/trainings/{started.json()['id']}", headers=headers
    ).json()
    assert training["status"] == "succeeded", training
    return training


def generation(
    client: TestClient,
    headers: dict[str, str],
    model_id: str,
    looks: list[dict[str, str]],
    per_look: int,
) -> dict[str, Any]:
    body = {"model_id": model_id, "looks": looks, "images_per_look": per_look, "seed": 7}
    started = client.post(f"{API}/generations", json=body, headers=headers)
    assert started.status_code == 202, started.text
    result: dict[str, Any] = client.get(
        f"{API}/generations/{started.json()['id']}", headers=headers
    ).json()
    assert result["status"] == "succeeded", result
    return result
