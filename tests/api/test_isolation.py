"""Per-user isolation (R3.3): for every route with an id in the OpenAPI document, another user
gets 404 and learns nothing. New routes are picked up automatically; a route whose id kind this
test cannot make fails until the test learns it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import SMALL_SET, generation, ready_session, trained_model
from tests.api.test_web_push import Browser

API = "/api/v1"
# Routes with ids that name no user's data: the same answer for everyone is correct there.
# A deletion receipt names nobody; its unguessable id is what grants reading it.
PUBLIC = {
    "/api/v1/styles/{axis}/{style_id}/preview",
    "/api/v1/deletion-receipts/{receipt_id}",
}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/sessions/{session_id}"): {"name": "taken over"},
    ("patch", "/headshots/{headshot_id}"): {"favorite": True},
    ("patch", "/photos/{photo_id}"): {"excluded": True},
    ("post", "/sessions/{session_id}/trainings"): {"engine": "studio"},
    ("post", "/headshots/{headshot_id}/shares"): {"expires_in_s": 3600},
}


def _resources_of_a(client: TestClient, headers: dict[str, str], testdata: Any) -> dict[str, str]:
    session_id = ready_session(client, headers, testdata)
    client.patch(
        f"{API}/sessions/{session_id}", json={"name": "Alice private batch"}, headers=headers
    )
    photo_id = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()["photos"][
        0
    ]["id"]
    token = client.post(f"{API}/auth/tokens", json={"name": "alice"}, headers=headers)
    model = trained_model(client, headers, session_id)
    look = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}
    made = generation(client, headers, model["id"], [look], per_look=1)
    headshot_id = made["headshot_ids"][0]
    share = client.post(f"{API}/headshots/{headshot_id}/shares", json={}, headers=headers)
    endpoint = "https://fcm.googleapis.com/fcm/send/alice-phone"
    push = client.post(
        f"{API}/me/push-subscriptions",
        json=Browser().subscription(endpoint),
        headers=headers,
    )
    return {
        "session_id": session_id,
        "photo_id": photo_id,
        "token_id": token.json()["id"],
        "training_id": model["id"],
        "model_id": model["id"],
        "generation_id": made["id"],
        "headshot_id": headshot_id,
        "share_id": share.json()["id"],
        "subscription_id": push.json()["id"],
        "key_id": "0" * 32,  # operator-only routes: every user gets 404
        "invitation_id": "0" * 32,
    }


def _routes_with_ids(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get(f"{API}/openapi.json").json()
    routes = []
    for path, methods in spec["paths"].items():
        if "{" in path and path.startswith(API) and path not in PUBLIC:
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


@pytest.fixture
def client(make_services: Callable[..., Services]) -> Iterator[TestClient]:
    with TestClient(
        create_app(make_services(**SMALL_SET)), base_url="https://testserver"
    ) as test_client:
        yield test_client


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
