"""The whole flow through the REST API with the offline studio engine and no provider key:
testdata/person's photos → readiness at the default minimum of 10 → training (model v1) →
3 looks x 2 images → gallery → share."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from headshot.api.app import create_app
from headshot.services.container import Services
from headshot.storage.records import Headshot
from headshot.storage.vault import Vault
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, generation, person_session, trained_model

LOOKS = [
    {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"},
    {"background": "office", "attire": "as-is", "lighting": "rembrandt"},
    {"background": "outdoor-green", "attire": "as-is", "lighting": "golden-hour"},
]


@pytest.fixture
def studio(make_services: Callable[..., Services]) -> Iterator[tuple[TestClient, Services]]:
    services = make_services()
    with TestClient(create_app(services), base_url="https://testserver") as client:
        yield client, services


# testdata/person's photos that are poor headshot sources: speaking, looking away, seen from above.
UNSUITABLE = {
    "pd_obama_2009_congress.jpg",
    "pd_obama_2016_oval-office-signing.jpg",
    "pd_obama_wa02_striped-shirt.jpg",
}


def test_studio_flow_end_to_end(studio: tuple[TestClient, Services], person: Path) -> None:
    client, services = studio
    headers = sign_up(client, "flow@example.com")
    session_id = person_session(client, headers, person)
    model = trained_model(client, headers, session_id)
    assert model["version"] == 1 and model["engine"] == "studio" and model["weights_sha256"]
    photos = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()["photos"]
    names = {p["id"]: p["filename"] for p in photos}
    used = {names[i] for i in model["params"]["photo_ids"]}
    # Trained on the suitable photos only: 13 of the 16, all accepted.
    assert model["dataset_fingerprint"] and used == set(names.values()) - UNSUITABLE
    vault = services.blobs
    assert isinstance(vault, Vault)
    raw = vault.read_raw(
        model_owner(services, model["id"]), f"models/{model['id']}/studio-model.zip"
    )
    assert not raw.startswith(b"PK"), "the model must be stored encrypted"

    made = generation(client, headers, model["id"], LOOKS, per_look=2)
    assert len(made["headshot_ids"]) == 6
    assert {look["attire"] for look in made["looks"]} == {"as-is"}  # the studio keeps clothes

    gallery = client.get(f"{API}/headshots", headers=headers).json()["headshots"]
    assert len(gallery) == 6
    assert all(h["likeness"] is not None for h in gallery)
    assert all(h["likeness"] > services.settings.likeness_threshold for h in gallery)
    for shown in gallery:  # the studio enlarges its source photos, and says so
        effective = (shown["effective_width"], shown["effective_height"])
        assert effective <= (shown["width"], shown["height"]) and min(effective) > 0
        assert shown["upscaled"] == (effective != (shown["width"], shown["height"]))
    assert any(shown["upscaled"] for shown in gallery)
    with services.db.transaction() as db:
        recorded = db.scalars(select(Headshot)).all()
    assert len(recorded) == 6 and all(r.metrics["edge_deviation"] > 0 for r in recorded)
    office = client.get(f"{API}/headshots?background=office", headers=headers).json()["headshots"]
    assert {h["background"] for h in office} == {"office"} and len(office) == 2

    first = gallery[0]["id"]
    image = client.get(f"{API}/headshots/{first}/image", headers=headers)
    assert Image.open(io.BytesIO(image.content)).size == (1024, 1280)
    liked = client.patch(f"{API}/headshots/{first}", json={"favorite": True}, headers=headers)
    assert liked.json()["favorite"] is True
    favourites = client.get(f"{API}/headshots?favorite=true", headers=headers).json()["headshots"]
    assert [h["id"] for h in favourites] == [first]
    page = client.get(f"{API}/headshots?limit=4", headers=headers).json()
    rest = client.get(
        f"{API}/headshots?limit=4&cursor={page['next_cursor']}", headers=headers
    ).json()
    assert (
        len(page["headshots"]) == 4 and len(rest["headshots"]) == 2 and rest["next_cursor"] is None
    )

    again = trained_model(client, headers, session_id)
    assert again["version"] == 2 and again["parent_id"] == model["id"]
    models = client.get(f"{API}/sessions/{session_id}/models", headers=headers).json()["models"]
    assert [m["version"] for m in models] == [1, 2]


def test_share_links_expose_one_headshot_and_expire(
    studio: tuple[TestClient, Services], person: Path
) -> None:
    client, _ = studio
    headers = sign_up(client, "share@example.com")
    model = trained_model(client, headers, person_session(client, headers, person))
    headshot_id = generation(client, headers, model["id"], LOOKS[:1], per_look=1)["headshot_ids"][0]
    share = client.post(
        f"{API}/headshots/{headshot_id}/shares", json={"expires_in_s": 3600}, headers=headers
    )
    assert share.status_code == 201
    path = share.json()["url"]
    client.cookies.clear()
    page = client.get(path)
    assert page.status_code == 200 and "share@example.com" not in page.text
    assert headshot_id not in page.text and model["id"] not in page.text
    assert client.get(f"{path}/image").content[:3] == b"\xff\xd8\xff"
    listed = client.get(f"{API}/headshots/{headshot_id}/shares", headers=headers).json()["shares"]
    assert [s["id"] for s in listed] == [share.json()["id"]] and "url" not in listed[0]
    assert client.delete(f"{API}/shares/{share.json()['id']}", headers=headers).status_code == 204
    assert client.get(f"{API}/headshots/{headshot_id}/shares", headers=headers).json() == {
        "shares": []
    }
    assert client.get(path).status_code == 404
    assert client.get("/s/hs_sh_made-up-token").status_code == 404


def test_training_refused_until_the_set_is_ready(studio: tuple[TestClient, Services]) -> None:
    client, _ = studio
    headers = sign_up(client, "early@example.com")
    session_id = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
    refused = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_ready"
    unknown = client.post(
        f"{API}/sessions/{session_id}/trainings", json={"engine": "fal"}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "engine_unavailable"


def model_owner(services: Services, model_id: str) -> str:
    from headshot.storage.records import Training

    with services.db.transaction() as db:
        row = db.get(Training, model_id)
        assert row is not None
        return row.user_id
