"""The operator's provider keys over REST (`/admin/provider-keys`) and the `headshot keys` CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from headshot.cli import keys as keys_cli
from headshot.services.container import Services
from headshot.storage.db import make_engine
from headshot.storage.migrate import upgrade
from headshot.storage.records import ProviderKey, User
from tests.api.conftest import sign_up
from tests.clock import SettableClock

API_KEY = "4f1c9a2e-1b2c-4d3e-8f90-a1b2c3d4e5f6:0123456789abcdef0123456789abcdef"
NEXT_KEY = "7d0e5b11-1b2c-4d3e-8f90-a1b2c3d4e5f6:fedcba9876543210fedcba9876543210"
ADMIN_KEY = "a0a0a0a0-1b2c-4d3e-8f90-a1b2c3d4e5f6:adminadminadminadminadminadmin00"
SECRETS = [key.partition(":")[2] for key in (API_KEY, NEXT_KEY, ADMIN_KEY)]
ADMIN_PATH = "/api/v1/admin/provider-keys"


def make_operator(services: Services, email: str) -> None:
    with services.db.transaction() as db:
        db.execute(update(User).where(User.email == email).values(is_operator=True))


@pytest.fixture
def operator(client: TestClient, services: Services) -> dict[str, str]:
    headers = sign_up(client, "ops@example.com")
    make_operator(services, "ops@example.com")
    return headers


def test_operators_add_list_retire_and_revoke_keys(
    client: TestClient, operator: dict[str, str], clock: SettableClock
) -> None:
    added = client.post(ADMIN_PATH, json={"secret": API_KEY, "label": "first"}, headers=operator)
    assert added.status_code == 201, added.text
    first = added.json()
    assert first["state"] == "active" and first["scope"] == "API" and first["hint"].endswith("cdef")
    clock.advance(minutes=1)
    body = {"secret": NEXT_KEY, "label": "second"}
    second = client.post(ADMIN_PATH, json=body, headers=operator).json()
    listed = client.get(ADMIN_PATH, headers=operator)
    assert [(k["label"], k["state"]) for k in listed.json()["keys"]] == [
        ("second", "active"),
        ("first", "retiring"),
    ]
    retired = client.post(f"{ADMIN_PATH}/{second['id']}/retire", headers=operator)
    assert retired.status_code == 200 and retired.json()["state"] == "retiring"
    revoked = client.delete(f"{ADMIN_PATH}/{first['id']}", headers=operator)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    everything = added.text + listed.text + retired.text + revoked.text
    assert not any(secret in everything for secret in SECRETS)


def test_bad_keys_get_clear_errors_without_echoing_them(
    client: TestClient, operator: dict[str, str]
) -> None:
    malformed = client.post(ADMIN_PATH, json={"secret": "not a key"}, headers=operator)
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "invalid_key"
    assert "not a key" not in malformed.text
    assert client.post(ADMIN_PATH, json={"secret": API_KEY}, headers=operator).status_code == 201
    again = client.post(ADMIN_PATH, json={"secret": API_KEY}, headers=operator)
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_key"
    scope = client.post(ADMIN_PATH, json={"secret": NEXT_KEY, "scope": "ROOT"}, headers=operator)
    assert scope.status_code == 422
    missing = client.delete(f"{ADMIN_PATH}/{'0' * 32}", headers=operator)
    assert missing.status_code == 404


def test_other_users_see_nothing(client: TestClient, operator: dict[str, str]) -> None:
    stored = client.post(ADMIN_PATH, json={"secret": API_KEY}, headers=operator).json()
    user = sign_up(client, "user@example.com")
    for method, path in [
        ("GET", ADMIN_PATH),
        ("POST", ADMIN_PATH),
        ("POST", f"{ADMIN_PATH}/{stored['id']}/retire"),
        ("DELETE", f"{ADMIN_PATH}/{stored['id']}"),
    ]:
        body = {"secret": NEXT_KEY} if method == "POST" else None
        response = client.request(method, path, json=body, headers=user)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    assert client.get(ADMIN_PATH).status_code == 401
    listed = client.get(ADMIN_PATH, headers=operator).json()["keys"]
    assert [(k["id"], k["state"]) for k in listed] == [(stored["id"], "active")]


# -- the CLI ---------------------------------------------------------------------------------


class _FalKeys(BaseHTTPRequestHandler):
    """A loopback stand-in for fal's key API (`POST /v1/keys`, `DELETE /v1/keys/{id}`)."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        self._answer(201, {"key_id": NEXT_KEY.split(":")[0], "key": NEXT_KEY})

    def do_DELETE(self) -> None:
        self._answer(204, None)

    def _answer(self, status: int, body: Any) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        type(self).seen.append((self.command, self.path))
        if self.headers.get("authorization") != f"Key {ADMIN_KEY}":
            status, body = 401, {"detail": "No user found for Key ID and Secret"}
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass  # quiet tests


@pytest.fixture
def fal_keys_api() -> Iterator[str]:
    _FalKeys.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FalKeys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def cli(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, fal_keys_api: str
) -> Iterator[typer.Typer]:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HEADSHOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEADSHOT_DATABASE_URL", database_url)
    monkeypatch.setenv("HEADSHOT_FAL_API_URL", fal_keys_api)
    app = typer.Typer()
    keys_cli.register(app)
    yield app


def run(app: typer.Typer, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    assert not any(secret in result.output for secret in SECRETS)
    return result.output


def test_cli_adds_from_a_hidden_prompt_or_the_environment(
    cli: typer.Typer, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(cli, "add", "--label", "prompted", stdin=f"{API_KEY}\n")
    monkeypatch.setenv("OPS_FAL_ADMIN", ADMIN_KEY)
    run(cli, "add", "--scope", "ADMIN", "--from-env", "OPS_FAL_ADMIN")
    listing = run(cli, "list")
    assert "prompted" in listing and "ADMIN" in listing and "4f1c9a2e…cdef" in listing
    engine = make_engine(database_url)
    with engine.connect() as connection:
        stored = b"".join(connection.scalars(select(ProviderKey.secret_ciphertext)))
    engine.dispose()
    assert not any(secret.encode() in stored for secret in SECRETS)
    missing = CliRunner().invoke(cli, ["add", "--from-env", "NOT_SET_ANYWHERE"])
    assert missing.exit_code == 2
    refused = CliRunner().invoke(cli, ["add"], input="not a key\n")
    assert refused.exit_code == 1 and "key_id:key_secret" in refused.output


def test_cli_rotates_through_fal_and_finishes(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_KEY", API_KEY)
    run(cli, "add", "--label", "old", "--from-env", "OPS_KEY")
    no_admin = CliRunner().invoke(cli, ["rotate-fal"])
    assert no_admin.exit_code == 1 and "ADMIN" in no_admin.output
    monkeypatch.setenv("OPS_KEY", ADMIN_KEY)
    run(cli, "add", "--scope", "ADMIN", "--from-env", "OPS_KEY")
    assert "now active" in run(cli, "rotate-fal")
    old_id = next(line.split()[1] for line in run(cli, "list").splitlines() if " old " in line)
    assert "revoked" in run(cli, "finish-rotation", old_id)
    old = API_KEY.split(":")[0]
    assert _FalKeys.seen == [("POST", "/v1/keys"), ("DELETE", f"/v1/keys/{old}")]


def test_cli_retires_and_revokes(cli: typer.Typer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_KEY", API_KEY)
    run(cli, "add", "--from-env", "OPS_KEY")
    key_id = next(line.split()[1] for line in run(cli, "list").splitlines() if "4f1c9a2e" in line)
    assert "retiring" in run(cli, "retire", key_id)
    assert "revoked" in run(cli, "revoke", key_id)
    refused = CliRunner().invoke(cli, ["retire", key_id])
    assert refused.exit_code == 1 and "revoked" in refused.output
