"""Registration, login, sessions, API tokens, consent and login rate limiting (R5.2, R5.5)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.services.container import Services
from headshot.storage.records import ApiToken, AuthSession, User
from tests.api.conftest import PASSWORD, sign_up
from tests.clock import SettableClock

API = "/api/v1"


def error_code(response: object) -> str:
    from httpx import Response

    assert isinstance(response, Response)
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    code: str = body["error"]["code"]
    return code


def test_register_login_me_logout(client: TestClient) -> None:
    created = client.post(
        f"{API}/auth/register", json={"email": "Ada@Example.com", "password": PASSWORD}
    )
    assert created.status_code == 201
    assert created.json()["email"] == "ada@example.com"
    assert "password" not in created.text

    login = client.post(
        f"{API}/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    client.cookies.clear()
    assert client.get(f"{API}/me", headers=headers).json()["email"] == "ada@example.com"
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
    assert client.get(f"{API}/me", headers=headers).status_code == 401


def test_cookie_session_and_cross_site_refusal(client: TestClient) -> None:
    client.post(f"{API}/auth/register", json={"email": "c@example.com", "password": PASSWORD})
    client.post(f"{API}/auth/login", json={"email": "c@example.com", "password": PASSWORD})
    assert client.get(f"{API}/me").status_code == 200  # the cookie alone authenticates
    same_site = client.post(f"{API}/sessions", json={}, headers={"Origin": "https://testserver"})
    assert same_site.status_code == 201
    cross = client.post(f"{API}/sessions", json={}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and error_code(cross) == "cross_site"


def test_registration_errors(client: TestClient) -> None:
    weak = client.post(f"{API}/auth/register", json={"email": "b@example.com", "password": "short"})
    assert weak.status_code == 422 and error_code(weak) == "weak_password"
    bad = client.post(f"{API}/auth/register", json={"email": "not-an-email", "password": PASSWORD})
    assert bad.status_code == 422 and error_code(bad) == "invalid_input"


def test_passwords_are_argon2id_hashes(client: TestClient, services: Services) -> None:
    sign_up(client, "h@example.com", consent=False)
    with services.db.transaction() as db:
        user = db.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert all(len(s.token_hash) == 64 for s in db.scalars(select(AuthSession)))


def test_login_rate_limit(client: TestClient, clock: SettableClock) -> None:
    client.post(f"{API}/auth/register", json={"email": "r@example.com", "password": PASSWORD})
    for _ in range(5):
        wrong = client.post(
            f"{API}/auth/login", json={"email": "r@example.com", "password": "wrong password"}
        )
        assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"
    limited = client.post(
        f"{API}/auth/login", json={"email": "r@example.com", "password": PASSWORD}
    )
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    clock.advance(seconds=301)
    assert (
        client.post(
            f"{API}/auth/login", json={"email": "r@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_unknown_email_and_wrong_password_answer_alike(client: TestClient) -> None:
    client.post(f"{API}/auth/register", json={"email": "k@example.com", "password": PASSWORD})
    unknown = client.post(
        f"{API}/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    wrong = client.post(
        f"{API}/auth/login", json={"email": "k@example.com", "password": "nope nope nope"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_session_expiry(client: TestClient, clock: SettableClock) -> None:
    headers = sign_up(client, "e@example.com")
    clock.advance(days=15)
    assert client.get(f"{API}/me", headers=headers).status_code == 401


def test_api_tokens_scoped_revocable_rotatable(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    headers = sign_up(client, "t@example.com")
    made = client.post(
        f"{API}/auth/tokens",
        json={"name": "ci", "scopes": ["read"], "expires_in_s": 3600},
        headers=headers,
    )
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("hs_pat_")
    with services.db.transaction() as db:
        stored = db.scalars(select(ApiToken)).one()
        assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    pat = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/sessions", headers=pat).status_code == 200
    write = client.post(f"{API}/sessions", json={}, headers=pat)
    assert write.status_code == 403 and error_code(write) == "insufficient_scope"
    minted = client.post(f"{API}/auth/tokens", json={"name": "x"}, headers=pat)
    assert minted.status_code == 403  # tokens cannot mint tokens

    token_id = made.json()["id"]
    rotated = client.post(f"{API}/auth/tokens/{token_id}/rotate", headers=headers)
    assert rotated.status_code == 201
    assert client.get(f"{API}/sessions", headers=pat).status_code == 401
    new = {"Authorization": f"Bearer {rotated.json()['token']}"}
    assert client.get(f"{API}/sessions", headers=new).status_code == 200
    listed = client.get(f"{API}/auth/tokens", headers=headers).json()["tokens"]
    assert [t["revoked"] for t in listed] == [True, False]
    assert "token" not in listed[0]

    assert (
        client.delete(f"{API}/auth/tokens/{rotated.json()['id']}", headers=headers).status_code
        == 204
    )
    assert client.get(f"{API}/sessions", headers=new).status_code == 401


def test_api_token_expiry(client: TestClient, clock: SettableClock) -> None:
    headers = sign_up(client, "x@example.com")
    made = client.post(
        f"{API}/auth/tokens",
        json={"name": "short", "scopes": ["read", "write"], "expires_in_s": 120},
        headers=headers,
    )
    pat = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.post(f"{API}/sessions", json={}, headers=pat).status_code == 201
    clock.advance(seconds=121)
    assert client.get(f"{API}/sessions", headers=pat).status_code == 401


def test_consent_gates_uploads(client: TestClient) -> None:
    headers = sign_up(client, "n@example.com", consent=False)
    session_id = client.post(f"{API}/sessions", json={"name": "S"}, headers=headers).json()["id"]
    files = {"files": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}
    refused = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert refused.status_code == 403 and error_code(refused) == "consent_required"
    text = client.get(f"{API}/consent").json()
    assert text["version"]
    titles = [section["title"] for section in text["sections"]]
    assert titles == [
        "What we do with your photos",
        "What we store",
        "For how long",
        "Where it goes",
        "How to delete it",
    ]
    assert "deleted 30 days after the last training" in text["text"]  # this server's setting
    me = client.post(
        f"{API}/me/consent", json={"biometric_processing": True}, headers=headers
    ).json()
    assert me["consent_given"] is True
    withdrawn = client.post(
        f"{API}/me/consent", json={"biometric_processing": False}, headers=headers
    )
    assert withdrawn.json()["consent_given"] is False
    again = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert again.status_code == 403


def test_unauthenticated_requests(client: TestClient) -> None:
    response = client.get(f"{API}/sessions")
    assert response.status_code == 401 and error_code(response) == "unauthenticated"
    bogus = client.get(f"{API}/sessions", headers={"Authorization": "Bearer hs_s_nope"})
    assert bogus.status_code == 401
