"""Sessions CRUD."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import sign_up

API = "/api/v1"


def test_sessions_crud(client: TestClient) -> None:
    headers = sign_up(client, "s@example.com")
    assert client.get(f"{API}/sessions", headers=headers).json() == {"sessions": []}
    first = client.post(
        f"{API}/sessions", json={"name": "  Office   look "}, headers=headers
    ).json()
    assert first["name"] == "Office look" and first["photo_count"] == 0
    unnamed = client.post(f"{API}/sessions", json={}, headers=headers).json()
    assert unnamed["name"].startswith("Session of")
    listed = client.get(f"{API}/sessions", headers=headers).json()["sessions"]
    assert {s["id"] for s in listed} == {first["id"], unnamed["id"]}
    renamed = client.patch(
        f"{API}/sessions/{first['id']}", json={"name": "Studio"}, headers=headers
    )
    assert renamed.json()["name"] == "Studio"
    empty = client.patch(f"{API}/sessions/{first['id']}", json={"name": "   "}, headers=headers)
    assert empty.status_code == 422
    assert client.delete(f"{API}/sessions/{first['id']}", headers=headers).status_code == 204
    assert client.get(f"{API}/sessions/{first['id']}", headers=headers).status_code == 404
    assert len(client.get(f"{API}/sessions", headers=headers).json()["sessions"]) == 1


def test_every_style_preview_is_served(client: TestClient) -> None:
    styles = client.get(f"{API}/styles").json()
    urls = [
        s["preview_url"] for axis in ("backgrounds", "attire", "lighting") for s in styles[axis]
    ]
    assert len(urls) >= 19
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.content[:3] == b"\xff\xd8\xff", url
    assert client.get(f"{API}/styles/background/nope/preview").status_code == 404
    assert client.get(f"{API}/styles/shoes/studio-grey/preview").status_code == 422
