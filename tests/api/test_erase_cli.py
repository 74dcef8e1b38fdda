"""`headshot users erase EMAIL`: the operator erases an account from the command line and gets
the receipt; `users grant-operator` is recorded in the audit log."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from headshot.api.app import create_app
from headshot.cli import build_cli
from headshot.services.container import Services
from tests.api.conftest import PASSWORD, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session


def test_operator_erases_an_account_from_the_cli(
    make_services: Callable[..., Services],
    testdata: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = make_services(master_key=None, **SMALL_SET)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "frank@example.com")
        ready_session(client, headers, testdata)
        sign_up(client, "grace@example.com")
    monkeypatch.setenv("HEADSHOT_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("HEADSHOT_DATABASE_URL", services.settings.effective_database_url)
    cli = build_cli()

    refused = CliRunner().invoke(cli, ["users", "erase", "Frank@example.com"], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    unknown = CliRunner().invoke(cli, ["users", "erase", "nobody@example.com", "--yes"])
    assert unknown.exit_code == 1 and "No account" in unknown.output
    granted = CliRunner().invoke(cli, ["users", "grant-operator", "grace@example.com"])
    assert granted.exit_code == 0, granted.output
    out = tmp_path / "frank.zip"
    exported = CliRunner().invoke(cli, ["users", "export", "frank@example.com", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(out) as archive:
        document = json.loads(archive.read("data.json"))
    assert document["account"]["email"] == "frank@example.com" and len(document["photos"]) == 3
    assert ("operator", "data.export") in {(e["actor"], e["action"]) for e in document["audit_log"]}
    again = CliRunner().invoke(cli, ["users", "export", "frank@example.com", "--out", str(out)])
    assert again.exit_code == 2  # never overwrites

    erased = CliRunner().invoke(cli, ["users", "erase", "Frank@example.com"], input="y\n")

    assert erased.exit_code == 0, erased.output
    assert "Deletion receipt" in erased.output and "photos" in erased.output
    assert "Erased" in erased.output
    with TestClient(create_app(services), base_url="https://testserver") as client:
        login = {"email": "frank@example.com", "password": PASSWORD}
        assert client.post(f"{API}/auth/login", json=login).status_code == 401
        grace = client.post(f"{API}/auth/login", json={**login, "email": "grace@example.com"})
        operator = {"Authorization": f"Bearer {grace.json()['access_token']}"}
        log = client.get(f"{API}/admin/audit", params={"limit": 200}, headers=operator).json()
    actions = {(e["actor"], e["action"]) for e in log["items"]}
    assert ("operator", "account.erase") in actions
    assert ("operator", "operator.grant") in actions

    assert all(e["subject"] is None or "frank" not in str(e) for e in log["items"])
