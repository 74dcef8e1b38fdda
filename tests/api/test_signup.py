"""Sign-up control (open, invite, closed) and operators' invitations, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from headshot.settings import Settings
from tests.api.conftest import PASSWORD
from tests.api.test_provider_keys import make_operator
from tests.clock import SettableClock

INVITES = "/api/v1/admin/invitations"


def register(client: TestClient, email: str, invite: str | None = None) -> tuple[int, str]:
    body = {"email": email, "password": PASSWORD, **({"invite": invite} if invite else {})}
    response = client.post("/api/v1/auth/register", json=body)
    code = response.json()["error"]["code"] if response.status_code >= 400 else ""
    return response.status_code, code


def login(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def invite_only(make_services: Callable[..., Services]) -> Iterator[tuple[TestClient, Services]]:
    services = make_services(signup="invite")
    with TestClient(create_app(services), base_url="https://testserver") as client:
        yield client, services


@pytest.fixture
def operator(invite_only: tuple[TestClient, Services]) -> dict[str, str]:
    client, services = invite_only
    # The first operator registers with an invitation made from the command line's service.
    first = services.invitations.create(by=None).token
    assert register(client, "ops@example.com", first) == (201, "")
    make_operator(services, "ops@example.com")
    return login(client, "ops@example.com")


def test_default_mode_is_open_on_loopback_only() -> None:
    assert Settings(host="127.0.0.1").effective_signup == "open"
    assert Settings(host="::1").effective_signup == "open"
    assert Settings(host="localhost").effective_signup == "open"
    assert Settings(host="0.0.0.0").effective_signup == "invite"
    assert Settings(host="192.168.1.10").effective_signup == "invite"
    assert Settings(host="0.0.0.0", signup="open").effective_signup == "open"


def test_closed_refuses_everyone(make_services: Callable[..., Services]) -> None:
    services = make_services(signup="closed")
    issued = services.invitations.create(by=None)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        assert register(client, "a@example.com") == (403, "signup_closed")
        assert register(client, "b@example.com", issued.token) == (403, "signup_closed")


def test_open_needs_no_invitation(client: TestClient) -> None:
    assert register(client, "anyone@example.com") == (201, "")


def test_invite_mode_single_use_invitations(
    invite_only: tuple[TestClient, Services], operator: dict[str, str]
) -> None:
    client, _ = invite_only
    assert register(client, "nobody@example.com") == (403, "invite_required")
    created = client.post(INVITES, json={"note": "for Ada"}, headers=operator)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert register(client, "ada@example.com", token) == (201, "")
    assert register(client, "eve@example.com", token) == (403, "invite_used")
    assert register(client, "eve@example.com", "hs_inv_made-up") == (403, "invite_invalid")
    listed = client.get(INVITES, headers=operator).json()["invitations"]
    assert {(i["note"], i["state"]) for i in listed} >= {("for Ada", "used")}
    assert "token" not in listed[0]


def test_expired_and_revoked_invitations_are_refused(
    invite_only: tuple[TestClient, Services], operator: dict[str, str], clock: SettableClock
) -> None:
    client, _ = invite_only
    short = client.post(INVITES, json={"expires_in_days": 1}, headers=operator).json()
    revoked = client.post(INVITES, json={}, headers=operator).json()
    gone = client.delete(f"{INVITES}/{revoked['id']}", headers=operator)
    assert gone.json()["state"] == "revoked"
    assert register(client, "late@example.com", revoked["token"]) == (403, "invite_invalid")
    clock.advance(days=1, seconds=1)
    assert register(client, "late@example.com", short["token"]) == (403, "invite_expired")
    listed = {
        i["id"]: i["state"] for i in client.get(INVITES, headers=operator).json()["invitations"]
    }
    assert listed[short["id"]] == "expired"


def test_domain_bound_invitation(
    invite_only: tuple[TestClient, Services], operator: dict[str, str]
) -> None:
    client, _ = invite_only
    bound = client.post(INVITES, json={"email_domain": "@Company.com"}, headers=operator).json()
    assert bound["email_domain"] == "company.com"
    assert register(client, "eve@elsewhere.com", bound["token"]) == (403, "invite_domain")
    assert register(client, "eve@company.com.evil.org", bound["token"]) == (403, "invite_domain")
    assert register(client, "staff@company.com", bound["token"]) == (201, "")


def test_only_operators_see_invitations(
    invite_only: tuple[TestClient, Services], operator: dict[str, str]
) -> None:
    client, _ = invite_only
    token = client.post(INVITES, json={}, headers=operator).json()["token"]
    register(client, "plain@example.com", token)
    person = login(client, "plain@example.com")
    assert client.get(INVITES, headers=person).status_code == 404
    assert client.post(INVITES, json={}, headers=person).status_code == 404


def test_invites_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from headshot.cli import build_cli
    from headshot.entrypoints import prepare_schema

    monkeypatch.setenv("HEADSHOT_DATA_DIR", str(tmp_path / "data"))
    prepare_schema(Settings())
    cli, runner = build_cli(), CliRunner()
    created = runner.invoke(cli, ["invites", "create", "--domain", "company.com", "--days", "3"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("hs_inv_")
    listed = runner.invoke(cli, ["invites", "list"])
    assert "company.com" in listed.stdout and "open" in listed.stdout
    invitation_id = next(
        line.split("│")[1].strip() for line in listed.stdout.splitlines() if "company.com" in line
    )
    revoked = runner.invoke(cli, ["invites", "revoke", invitation_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert runner.invoke(cli, ["invites", "revoke", "missing"]).exit_code == 1
