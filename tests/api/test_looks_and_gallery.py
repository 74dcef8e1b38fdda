"""Honest looks (the styles catalogue says what the engine can render; a look it cannot render is
refused) and the gallery's small renditions, totals and empty archives."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from headshot.api.app import create_app
from headshot.services.container import Services
from headshot.storage.records import Headshot
from headshot.storage.vault import Vault
from tests.api.conftest import sign_up
from tests.api.photo_helpers import looks_like_plain_image
from tests.api.pipeline_helpers import API, SMALL_SET, generation, ready_session, trained_model

OWN_CLOTHES = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}
SUIT = {**OWN_CLOTHES, "attire": "business-suit"}


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services(**SMALL_SET)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), base_url="https://testserver") as test_client:
        yield test_client


def test_styles_say_which_axes_the_engine_renders(client: TestClient) -> None:
    studio = client.get(f"{API}/styles").json()
    assert studio["engine"] == "studio"
    assert studio["axes"]["attire"] == {
        "supported": False,
        "reason": "The studio engine keeps the clothes from your photos.",
    }
    assert studio["axes"]["background"]["supported"] and studio["axes"]["lighting"]["supported"]
    fal = client.get(f"{API}/styles", params={"engine": "fal"}).json()
    assert all(axis["supported"] for axis in fal["axes"].values())


def test_studio_refuses_attire_and_the_gallery_serves_thumbnails(
    client: TestClient, services: Services, testdata: Path
) -> None:
    headers = sign_up(client, "looks@example.com")
    model = trained_model(client, headers, ready_session(client, headers, testdata))
    suit = {"model_id": model["id"], "looks": [OWN_CLOTHES, SUIT], "images_per_look": 1}

    refused = client.post(f"{API}/generations", json=suit, headers=headers)

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "unsupported_style" and error["details"]["axis"] == "attire"
    assert "/api" not in error["message"]
    made = generation(client, headers, model["id"], [OWN_CLOTHES], per_look=2)
    listing = client.get(f"{API}/headshots", params={"limit": 1}, headers=headers).json()
    assert listing["total"] == 2 and len(listing["headshots"]) == 1
    assert {h["attire"] for h in listing["headshots"]} == {"as-is"}
    headshot_id = made["headshot_ids"][0]

    thumb = client.get(listing["headshots"][0]["thumb_url"], headers=headers)
    again = client.get(f"{API}/headshots/{headshot_id}/image?size=thumb", headers=headers)

    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    small = Image.open(io.BytesIO(again.content))
    assert max(small.size) <= 384 and small.format == "JPEG"
    full = client.get(f"{API}/headshots/{headshot_id}/image", headers=headers)
    assert len(again.content) * 4 < len(full.content)
    with services.db.transaction() as db:
        row = db.get(Headshot, headshot_id)
        assert row is not None and row.thumb_key
        user_id, thumb_key = row.user_id, row.thumb_key
    vault = services.blobs
    assert isinstance(vault, Vault)
    assert thumb_key in set(vault.keys(user_id))
    for path in services.settings.data_dir.rglob("*"):  # every blob stays encrypted
        if path.is_file() and path.suffix not in {".db", ".db-wal", ".db-shm"}:
            assert not looks_like_plain_image(path.read_bytes()), path.name

    client.delete(f"{API}/headshots/{headshot_id}", headers=headers)
    assert thumb_key not in set(vault.keys(user_id))


def test_download_all_with_nothing_matching_says_so(client: TestClient) -> None:
    headers = sign_up(client, "empty@example.com")
    empty = client.get(f"{API}/headshots/archive", params={"favorite": True}, headers=headers)
    assert empty.status_code == 404
    assert empty.json()["error"]["code"] == "nothing_to_download"
    assert empty.json()["error"]["message"] == (
        "There are no headshots to download with these filters."
    )
    assert client.get(f"{API}/headshots", headers=headers).json()["total"] == 0
