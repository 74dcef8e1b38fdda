"""What leaves the server is only the pixels: every stored blob (decrypted) and every served
image is free of metadata segments, secondary pictures, trailers and hidden colour."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from headshot.services.container import Services
from headshot.storage.vault import Vault
from tests.api.conftest import sign_up
from tests.api.photo_helpers import portrait_bytes
from tests.hostile_images import SECRET, every_marker_family, jpeg_layout, transparent_band
from tests.imaging.jpeg_canon import JFIF_APP0_PAYLOAD, is_minimal_adobe

API = "/api/v1"


def _upload(client: TestClient, headers: dict[str, str], name: str, data: bytes) -> str:
    session_id = client.post(f"{API}/sessions", json={"name": "S"}, headers=headers).json()["id"]
    files = [("files", (name, data, "application/octet-stream"))]
    response = client.post(f"{API}/sessions/{session_id}/photos", files=files, headers=headers)
    assert response.status_code == 201, response.text
    report = response.json()["photos"][0]
    assert report["accepted"], report["findings"]
    photo_id: str = report["id"]
    return photo_id


def _stored(services: Services, client: TestClient, headers: dict[str, str]) -> list[bytes]:
    user_id = client.get(f"{API}/me", headers=headers).json()["id"]
    vault = services.blobs
    assert isinstance(vault, Vault)
    blobs = [vault.read(user_id, key) for key in vault.keys(user_id)]
    assert len(blobs) == 3  # original, training image, thumbnail
    return blobs


def _served(client: TestClient, headers: dict[str, str], photo_id: str) -> list[bytes]:
    sizes = ("thumb", "full")
    answers = [
        client.get(f"{API}/photos/{photo_id}/image?size={s}", headers=headers) for s in sizes
    ]
    assert all(a.status_code == 200 for a in answers)
    return [a.content for a in answers]


def assert_only_pixels(jpeg: bytes) -> None:
    assert SECRET not in jpeg
    layout = jpeg_layout(jpeg)
    assert 0xFE not in layout.markers, "no comment segment"
    for payload in layout.app_payloads:
        assert payload == JFIF_APP0_PAYLOAD or is_minimal_adobe(payload), payload[:40]
    assert layout.after_eoi == b"", "nothing after the picture"
    assert jpeg.count(b"\xff\xd8\xff") == 1 and b"MPF\x00" not in jpeg


def test_every_jpeg_marker_family_is_gone_from_stored_and_served_images(
    client: TestClient, services: Services, testdata: Path
) -> None:
    headers = sign_up(client, "markers@example.com")
    hostile = every_marker_family(portrait_bytes(testdata))
    photo_id = _upload(client, headers, "phone.jpg", hostile)
    for image in _stored(services, client, headers) + _served(client, headers, photo_id):
        assert_only_pixels(image)
    full = _served(client, headers, photo_id)[1]
    # The original's pixels are untouched: the rebuild is lossless.
    as_sent = Image.open(io.BytesIO(hostile)).convert("RGB").tobytes()
    assert Image.open(io.BytesIO(full)).convert("RGB").tobytes() == as_sent


def test_transparent_pixels_keep_no_colour(
    client: TestClient, services: Services, testdata: Path
) -> None:
    headers = sign_up(client, "alpha@example.com")
    png = transparent_band(portrait_bytes(testdata), colour=(201, 13, 77))
    photo_id = _upload(client, headers, "cut-out.png", png)
    full = _served(client, headers, photo_id)[1]
    stored = [b for b in _stored(services, client, headers) if b.startswith(b"\x89PNG")]
    assert stored == [full]
    rgba = np.asarray(Image.open(io.BytesIO(full)).convert("RGBA"))
    hidden = rgba[rgba[..., 3] == 0]
    assert len(hidden) > 0 and not hidden[:, :3].any()
    for jpeg in (b for b in _stored(services, client, headers) if b[:2] == b"\xff\xd8"):
        assert_only_pixels(jpeg)
