"""Without consent (never given, or withdrawn) a person can still read, export, delete and erase
everything and sign out; only new processing is refused. Messages never name HTTP routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import (
    API,
    SMALL_SET,
    generation,
    ready_session,
    trained_model,
)

LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}
ROUTE_WORDS = ("/api", "GET ", "POST ", "DELETE ", "PATCH ")


@pytest.fixture
def client(make_services: Callable[..., Services]) -> Iterator[TestClient]:
    with TestClient(
        create_app(make_services(**SMALL_SET)), base_url="https://testserver"
    ) as test_client:
        yield test_client


def _plain(message: str) -> None:
    assert not any(word in message for word in ROUTE_WORDS), message


def test_after_withdrawal_everything_but_new_processing_works(
    client: TestClient, testdata: Path
) -> None:
    headers = sign_up(client, "withdrawn@example.com")
    session_id = ready_session(client, headers, testdata)
    model = trained_model(client, headers, session_id)
    made = generation(client, headers, model["id"], [LOOK], per_look=2)
    photos = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()["photos"]

    withdrawn = client.post(
        f"{API}/me/consent", json={"biometric_processing": False}, headers=headers
    )

    assert withdrawn.status_code == 200
    _plain(withdrawn.json()["message"])
    for path in (
        "/me",
        "/consent",
        "/config",
        "/sessions",
        f"/sessions/{session_id}",
        f"/sessions/{session_id}/photos",
        f"/sessions/{session_id}/readiness",
        f"/sessions/{session_id}/models",
        f"/photos/{photos[0]['id']}",
        "/headshots",
        f"/headshots/{made['headshot_ids'][0]}",
        f"/headshots/{made['headshot_ids'][0]}/image?size=thumb",
        "/me/audit",
        "/auth/tokens",
    ):
        assert client.get(f"{API}{path}", headers=headers).status_code == 200, path
    export = client.get(f"{API}/me/export", headers=headers)
    assert export.status_code == 200 and export.content[:2] == b"PK"
    excluded = client.patch(
        f"{API}/photos/{photos[1]['id']}", json={"excluded": True}, headers=headers
    )
    assert excluded.status_code == 200

    files = {"files": ("a.jpg", (testdata / "pd_obama_portrait_2012.jpg").read_bytes())}
    upload = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert upload.status_code == 403 and upload.json()["error"]["code"] == "consent_required"
    _plain(upload.json()["error"]["message"])
    body = {"model_id": model["id"], "looks": [LOOK], "images_per_look": 1}
    refused = client.post(f"{API}/generations", json=body, headers=headers)
    assert refused.status_code == 403
    _plain(refused.json()["error"]["message"])

    for path in (
        f"/headshots/{made['headshot_ids'][0]}",
        f"/photos/{photos[0]['id']}",
        f"/models/{model['id']}",
        f"/sessions/{session_id}",
    ):
        deleted = client.delete(f"{API}{path}", headers=headers)
        assert deleted.status_code == 204, path
        assert deleted.headers["Deletion-Receipt"]
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204


def test_never_consenting_still_allows_export_erasure_and_sign_out(client: TestClient) -> None:
    headers = sign_up(client, "never@example.com", consent=False)
    assert client.get(f"{API}/me", headers=headers).json()["consent_given"] is False
    assert client.get(f"{API}/sessions", headers=headers).status_code == 200
    assert client.get(f"{API}/headshots", headers=headers).json()["total"] == 0
    assert client.get(f"{API}/me/export", headers=headers).status_code == 200
    session = client.post(f"{API}/sessions", json={}, headers=headers).json()
    assert client.delete(f"{API}/sessions/{session['id']}", headers=headers).status_code == 204

    erased = client.delete(f"{API}/me", headers=headers)

    assert erased.status_code == 200 and erased.json()["scope"] == "account"
    assert client.get(f"{API}/me", headers=headers).status_code == 401
