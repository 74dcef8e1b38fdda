"""Cookie-authenticated writes must show they come from our own origin; bearer writes need not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import PASSWORD

API = "/api/v1"


def _cookie_client(client: TestClient) -> str:
    client.post(f"{API}/auth/register", json={"email": "c@example.com", "password": PASSWORD})
    login = client.post(f"{API}/auth/login", json={"email": "c@example.com", "password": PASSWORD})
    token: str = login.json()["access_token"]
    assert client.cookies.get("headshot_session")
    return token


def _status(client: TestClient, headers: dict[str, str]) -> int:
    status: int = client.post(f"{API}/sessions", json={}, headers=headers).status_code
    return status


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Referer": "https://evil.example/page"},
        {"Referer": "https://testserver/"},  # a Referer alone proves nothing either
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver"},  # another scheme is another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "https://testserver", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cookie_writes_without_proof_of_origin_are_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    _cookie_client(client)
    response = client.post(f"{API}/sessions", json={}, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "cross_site"
    assert client.get(f"{API}/sessions").status_code == 200  # reads stay as they were


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://testserver"},
        {"Origin": "https://TESTSERVER:443"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://testserver", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_cookie_writes_from_our_origin_work(client: TestClient, headers: dict[str, str]) -> None:
    _cookie_client(client)
    assert _status(client, headers) == 201


def test_bearer_writes_need_no_origin(client: TestClient) -> None:
    token = _cookie_client(client)
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert _status(client, bearer) == 201
    assert _status(client, {**bearer, "Referer": "https://evil.example/"}) == 201


def test_the_configured_public_origin_is_accepted(make_services: Callable[..., Services]) -> None:
    services = make_services(public_url="https://photos.example.com/base")
    with TestClient(create_app(services), base_url="https://testserver") as client:
        _cookie_client(client)
        assert _status(client, {"Origin": "https://photos.example.com"}) == 201
        assert _status(client, {"Origin": "https://photos.example.com:8443"}) == 403
