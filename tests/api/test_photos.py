"""Photo intake via the API: encrypted storage, limits, hostile files (R1, R5.4, R5.6)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from headshot.services.container import Services
from headshot.storage.records import Photo
from tests.api.conftest import sign_up
from tests.api.photo_helpers import huge_png_header, looks_like_plain_image, portrait_bytes

API = "/api/v1"


def new_session(client: TestClient, headers: dict[str, str]) -> str:
    session_id: str = client.post(f"{API}/sessions", json={"name": "S"}, headers=headers).json()[
        "id"
    ]
    return session_id


def upload(
    client: TestClient, headers: dict[str, str], session_id: str, *files: tuple[str, bytes]
) -> object:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post(f"{API}/sessions/{session_id}/photos", files=parts, headers=headers)


def stored_files(data_dir: Path) -> list[Path]:
    blobs = data_dir / "blobs"
    return [p for p in blobs.rglob("*") if p.is_file()] if blobs.exists() else []


def photo_rows(services: Services) -> int:
    with services.db.transaction() as db:
        return int(db.scalar(select(func.count(Photo.id))) or 0)


def test_upload_stores_encrypted_and_serves_images(
    client: TestClient, services: Services, testdata: Path
) -> None:
    headers = sign_up(client, "p@example.com")
    session_id = new_session(client, headers)
    response = upload(client, headers, session_id, ("me.jpg", portrait_bytes(testdata)))
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    report = response.json()["photos"][0]  # type: ignore[attr-defined]
    assert report["accepted"] is True and report["face_count"] == 1 and report["id"]
    assert report["stored_bytes"] > 0 and report["width"] > 0

    thumb = client.get(f"{API}/photos/{report['id']}/image?size=thumb", headers=headers)
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    full = client.get(f"{API}/photos/{report['id']}/image", headers=headers)
    image = Image.open(io.BytesIO(full.content))
    assert not image.getexif(), "metadata must be stripped from the stored original"

    files = stored_files(services.settings.data_dir)
    assert files, "the upload stored blobs"
    for path in services.settings.data_dir.rglob("*"):
        if path.is_file() and path.suffix not in {".db", ".db-wal", ".db-shm"}:
            content = path.read_bytes()
            assert not looks_like_plain_image(content), f"plaintext image in {path.name}"

    listed = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()["photos"]
    assert [p["id"] for p in listed] == [report["id"]]
    assert client.delete(f"{API}/photos/{report['id']}", headers=headers).status_code == 204
    assert stored_files(services.settings.data_dir) == []


def _truncated_jpeg(testdata: Path) -> bytes:
    data = portrait_bytes(testdata)
    return data[: len(data) // 3]


HOSTILE: dict[str, tuple[Callable[[Path], bytes], int]] = {
    "huge.png": (lambda _: huge_png_header(), 413),
    "truncated.jpg": (_truncated_jpeg, 422),
    "empty.jpg": (lambda _: b"", 422),
    "notes.jpg": (lambda _: b"Dear diary, this is not a photo.\n" * 20, 422),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_and_leave_nothing(
    name: str, client: TestClient, services: Services, testdata: Path
) -> None:
    make, status = HOSTILE[name]
    headers = sign_up(client, "h@example.com")
    session_id = new_session(client, headers)
    response = upload(client, headers, session_id, (name, make(testdata)))
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["message"] and "/" not in error["message"]
    assert photo_rows(services) == 0
    assert stored_files(services.settings.data_dir) == []


def test_size_limits_while_streaming(
    make_services: Callable[..., Services], testdata: Path
) -> None:
    from headshot.api.app import create_app

    services = make_services(
        uploads={"max_file_bytes": 50_000, "max_request_bytes": 400_000, "max_files_per_request": 3}
    )
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "l@example.com")
        session_id = new_session(client, headers)
        big = upload(client, headers, session_id, ("big.jpg", b"\xff\xd8\xff" + b"0" * 60_000))
        assert big.status_code == 413  # type: ignore[attr-defined]
        many = upload(client, headers, session_id, *[(f"{i}.jpg", b"x" * 10) for i in range(4)])
        assert many.status_code == 413 and many.json()["error"]["code"] == "too_many_files"  # type: ignore[attr-defined]
        assert photo_rows(services) == 0


def test_mixed_upload_keeps_good_photos_and_reports_bad_ones(
    client: TestClient, testdata: Path
) -> None:
    headers = sign_up(client, "m@example.com")
    session_id = new_session(client, headers)
    response = upload(
        client, headers, session_id, ("good.jpg", portrait_bytes(testdata)), ("bad.jpg", b"nope")
    )
    assert response.status_code == 201  # type: ignore[attr-defined]
    photos = response.json()["photos"]  # type: ignore[attr-defined]
    assert [p["accepted"] for p in photos] == [True, False]
    assert photos[1]["id"] is None and photos[1]["findings"][0]["code"] == "format"


def test_malformed_requests(client: TestClient) -> None:
    headers = sign_up(client, "f@example.com")
    session_id = new_session(client, headers)
    url = f"{API}/sessions/{session_id}/photos"
    not_multipart = client.post(
        url, content=b"raw", headers={**headers, "Content-Type": "image/jpeg"}
    )
    assert not_multipart.status_code == 422
    no_files = client.post(
        url, data={"other": "x"}, files={"note": ("n.txt", b"x")}, headers=headers
    )
    assert no_files.status_code == 422 and no_files.json()["error"]["code"] == "no_files"


def test_readiness_reports_the_set(client: TestClient, testdata: Path) -> None:
    headers = sign_up(client, "r@example.com")
    session_id = new_session(client, headers)
    upload(client, headers, session_id, ("me.jpg", portrait_bytes(testdata)))
    report = client.get(f"{API}/sessions/{session_id}/readiness", headers=headers).json()
    assert report["ready"] is False and report["accepted_count"] == 1
    assert report["required_count"] >= 10
    assert any(f["code"] == "count" for f in report["findings"])


def test_set_findings_name_their_photos_by_id(client: TestClient, testdata: Path) -> None:
    headers = sign_up(client, "named@example.com")
    session_id = new_session(client, headers)
    names = ("pd_obama_portrait_2012.jpg", "d_obama_dup_q40.jpg", "pd_grace_hopper.jpg")
    upload(client, headers, session_id, *((n, (testdata / n).read_bytes()) for n in names))
    photos = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()["photos"]
    ids = {p["filename"]: p["id"] for p in photos}
    report = client.get(f"{API}/sessions/{session_id}/readiness", headers=headers).json()
    named = {f["code"]: f["photo_ids"] for f in report["findings"] if f["photo_ids"]}
    assert named == {
        "duplicate": [ids["d_obama_dup_q40.jpg"]],
        "identity": [ids["pd_grace_hopper.jpg"]],
    }
    count = next(f for f in report["findings"] if f["code"] == "count")
    assert count["photo_ids"] == []
