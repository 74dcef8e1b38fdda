"""`headshot keys rotate-master` re-wraps data keys; every blob stays readable and unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from headshot.api.app import create_app
from headshot.cli import build_cli
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.photo_helpers import portrait_bytes


def _blob_bytes(data_dir: Path) -> dict[str, bytes]:
    root = data_dir / "blobs"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_rotation_with_the_generated_key_file(
    make_services: Callable[..., Services], testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(master_key=None)
    data_dir = services.settings.data_dir
    images: dict[str, bytes] = {}
    with TestClient(create_app(services), base_url="https://testserver") as client:
        for email in ("one@example.com", "two@example.com"):
            headers = sign_up(client, email)
            session = client.post("/api/v1/sessions", json={}, headers=headers).json()["id"]
            files = {"files": ("me.jpg", portrait_bytes(testdata), "image/jpeg")}
            photo = client.post(f"/api/v1/sessions/{session}/photos", files=files, headers=headers)
            photo_id = photo.json()["photos"][0]["id"]
            images[email] = client.get(f"/api/v1/photos/{photo_id}/image", headers=headers).content
    key_file = data_dir / "master.key"
    before_key = json.loads(key_file.read_text())["current"]
    before_blobs = _blob_bytes(data_dir)

    monkeypatch.setenv("HEADSHOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEADSHOT_DATABASE_URL", services.settings.effective_database_url)
    result = CliRunner().invoke(build_cli(), ["keys", "rotate-master"])
    assert result.exit_code == 0, result.output
    assert "Re-wrapped 2 data keys" in result.output

    document = json.loads(key_file.read_text())
    assert document["current"] != before_key and len(document["keys"]) == 1
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert _blob_bytes(data_dir) == before_blobs, "rotation must not rewrite blobs"

    rotated = make_services(master_key=None)
    with TestClient(create_app(rotated), base_url="https://testserver") as client:
        for email, image in images.items():
            login = client.post(
                "/api/v1/auth/login", json={"email": email, "password": "correct horse battery"}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            session = client.get("/api/v1/sessions", headers=headers).json()["sessions"][0]["id"]
            photo_id = client.get(f"/api/v1/sessions/{session}/photos", headers=headers).json()[
                "photos"
            ][0]["id"]
            assert client.get(f"/api/v1/photos/{photo_id}/image", headers=headers).content == image
