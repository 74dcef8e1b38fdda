"""Per-user isolation (R3.3): for every route with an id in the OpenAPI document, another user
gets 404 and learns nothing. New routes are picked up automatically; a route whose id kind this
test cannot make fails until the test learns it."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import sign_up
from tests.api.photo_helpers import portrait_bytes

API = "/api/v1"
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/sessions/{session_id}"): {"name": "taken over"},
}


def _resources_of_a(client: TestClient, headers: dict[str, str], testdata: Any) -> dict[str, str]:
    session = client.post(f"{API}/sessions", json={"name": "Alice private batch"}, headers=headers)
    session_id = session.json()["id"]
    upload = client.post(
        f"{API}/sessions/{session_id}/photos",
        files={"files": ("alice.jpg", portrait_bytes(testdata), "image/jpeg")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    token = client.post(f"{API}/auth/tokens", json={"name": "alice"}, headers=headers)
    return {
        "session_id": session_id,
        "photo_id": upload.json()["photos"][0]["id"],
        "token_id": token.json()["id"],
    }


def _routes_with_ids(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get(f"{API}/openapi.json").json()
    routes = []
    for path, methods in spec["paths"].items():
        if "{" in path and path.startswith(API):
            routes += [(method, path) for method in methods]
    return routes


def _call(
    client: TestClient, method: str, template: str, path: str, headers: dict[str, str]
) -> Any:
    template = template.removeprefix(API)
    if method == "post" and template.endswith("/photos"):
        files = {"files": ("x.jpg", b"\xff\xd8\xffnot really", "image/jpeg")}
        return client.request(method, path, files=files, headers=headers)
    body = BODIES.get((method, template))
    return client.request(method, path, json=body, headers=headers)


def test_other_users_ids_answer_404(client: TestClient, testdata: Any) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    ids = _resources_of_a(client, alice, testdata)
    routes = _routes_with_ids(client)
    assert len(routes) >= 8
    for method, template in routes:
        params = re.findall(r"\{([a-z_]+)\}", template)
        unknown = [p for p in params if p not in ids]
        assert not unknown, (
            f"teach this test to make a {unknown[0]} for {method.upper()} {template}"
        )
        path = template.format(**ids)
        response = _call(client, method, template, path, bob)
        assert response.status_code == 404, f"{method.upper()} {template}: {response.status_code}"
        assert response.json()["error"]["code"] == "not_found"
        for secret in ("alice", "Alice private batch", *ids.values()):
            assert secret not in response.text, f"{method.upper()} {template} leaked {secret!r}"
    # Alice still sees everything, so the 404s above were about ownership.
    for method, template in routes:
        if method == "get":
            path = template.format(**ids)
            assert client.get(path, headers=alice).status_code == 200, template
