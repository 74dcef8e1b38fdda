"""Export (Art. 20): `GET /me/export` streams a zip of every record and file about the caller,
decrypted, with a README; nothing of anyone else; memory flat whatever the account's size."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.services.container import Services
from headshot.services.data_export import SECTION_NAMES, SKIPPED_TABLES
from headshot.storage.records import (
    Base,
    Generation,
    Headshot,
    PhotoSession,
    Training,
    User,
)
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import (
    API,
    SAME_PERSON,
    SMALL_SET,
    generation,
    ready_session,
    trained_model,
)

LOOKS = [
    {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"},
    {"background": "office", "attire": "as-is", "lighting": "rembrandt"},
    {"background": "city", "attire": "as-is", "lighting": "high-key"},
]
REJECTED = ("d_obama_blur_r4.jpg", "cc0_coffee.jpg", "d_two_faces_obama_biden.jpg")


def _upload(client: TestClient, headers: dict[str, str], session: str, path: Path) -> None:
    files = [("files", (path.name, path.read_bytes(), "image/jpeg"))]
    answer = client.post(f"{API}/sessions/{session}/photos", files=files, headers=headers)
    assert answer.status_code == 201, answer.text


def _big_account(client: TestClient, headers: dict[str, str], testdata: Path) -> str:
    """20 photos (3 accepted, the rest rejected), model versions v1 and v2, 12 headshots."""
    session = client.post(f"{API}/sessions", json={"name": "Spring batch"}, headers=headers)
    session_id: str = session.json()["id"]
    names = [*SAME_PERSON, *(REJECTED * 6)][:20]
    for name in names:
        _upload(client, headers, session_id, testdata / name)
    for _version in (1, 2):
        model = trained_model(client, headers, session_id)
        generation(client, headers, model["id"], LOOKS, per_look=2)
    return session_id


def _archive(client: TestClient, headers: dict[str, str]) -> zipfile.ZipFile:
    answer = client.get(f"{API}/me/export", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith(
        'attachment; filename="headshot-export-'
    )
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.testzip() is None  # every member's CRC checks out
    return archive


def test_export_holds_every_record_and_file(
    client: TestClient, services: Services, testdata: Path
) -> None:
    services.settings.validation.min_photos = SMALL_SET["validation"]["min_photos"]
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    session_id = _big_account(client, alice, testdata)
    bobs = client.post(f"{API}/sessions", json={"name": "Bob's"}, headers=bob).json()["id"]
    _upload(client, bob, bobs, testdata / SAME_PERSON[0])
    client.post(f"{API}/auth/tokens", json={"name": "laptop"}, headers=alice)
    first = client.get(f"{API}/headshots", headers=alice).json()["headshots"][0]["id"]
    client.post(f"{API}/headshots/{first}/shares", json={}, headers=alice)
    alice_id = client.get(f"{API}/me", headers=alice).json()["id"]

    archive = _archive(client, alice)

    names = archive.namelist()
    assert names[:2] == ["README.txt", "data.json"]
    assert "data.json" in archive.read("README.txt").decode()
    document = json.loads(archive.read("data.json"))
    assert document["account"]["email"] == "alice@example.com"
    assert "password_hash" not in document["account"]
    # Every row of every table about a person, derived from the schema: a new table must appear.
    with services.db.transaction() as db:
        for table in Base.metadata.sorted_tables:
            if table.name in SKIPPED_TABLES or table.name == "users":
                continue
            owner = "subject_user_id" if table.name == "audit_log" else "user_id"
            if owner not in table.c:
                continue
            ids = set(db.scalars(select(table.c.id).where(table.c[owner] == alice_id)))
            section = document[SECTION_NAMES.get(table.name, table.name)]
            assert {row["id"] for row in section} == ids, table.name
    assert len(document["photos"]) == 20 and len(document["headshots"]) == 12
    assert sorted(m["version"] for m in document["model_versions"]) == [1, 2]
    assert all(p["report"]["findings"] is not None for p in document["photos"])
    assert any(e["action"] == "photo.upload" for e in document["audit_log"])
    text = archive.read("data.json").decode()
    bob_id = client.get(f"{API}/me", headers=bob).json()["id"]
    assert bob_id not in text and "bob@" not in text and "Bob's" not in text
    for section in ("logins", "api_tokens", "shares"):
        assert document[section] and all("token_hash" not in row for row in document[section])
    assert "api_tokens.token_hash" in document["withheld"]

    # Every file, decrypted, byte for byte what the API serves.
    folder = f"sessions/Spring-batch-{session_id[:8]}"
    for photo in document["photos"]:
        if photo["original_key"]:
            (name,) = [
                n for n in names if f"/photos/{photo['id'][:8]}-" in n and ".training" not in n
            ]
            served = client.get(f"{API}/photos/{photo['id']}/image?size=full", headers=alice)
            assert name.startswith(folder) and archive.read(name) == served.content
            assert any(n.startswith(name.rsplit(".", 1)[0]) and ".training" in n for n in names)
    for headshot in document["headshots"]:
        served = client.get(f"{API}/headshots/{headshot['id']}/image", headers=alice)
        assert archive.read(f"{folder}/headshots/{headshot['id']}.jpg") == served.content
    for model in document["model_versions"]:
        weights = archive.read(f"{folder}/models/v{model['version']}/lora.safetensors")
        assert hashlib.sha256(weights).hexdigest() == model["weights_sha256"]
    files = [n for n in names if n.startswith("sessions/")]
    assert len(files) == 3 * 2 + 2 + 12  # photos (original + training), two LoRAs, headshots

    audit = client.get(f"{API}/me/audit", headers=alice).json()["items"]
    assert "data.export" in [entry["action"] for entry in audit]
    assert client.get(f"{API}/me/export").status_code == 401
    assert alice_id not in json.dumps(_archive(client, bob).read("data.json").decode())


def _account_with_blobs(services: Services, user_id: str, count: int, size: int) -> None:
    """Rows and encrypted blobs written straight through the services' stores (fast)."""
    keys = [f"headshots/bulk-{index}.jpg" for index in range(count)]
    for key in keys:  # before the transaction: the first one creates the data key
        services.blobs.put(user_id, key, os.urandom(size))
    with services.db.transaction() as db:
        session = PhotoSession(user_id=user_id, name="bulk")
        db.add(session)
        db.flush()
        training = Training(user_id=user_id, session_id=session.id, version=1, engine="studio")
        db.add(training)
        db.flush()
        made = Generation(user_id=user_id, model_id=training.id, engine="studio")
        db.add(made)
        db.flush()
        for key in keys:
            db.add(
                Headshot(
                    user_id=user_id,
                    generation_id=made.id,
                    model_id=training.id,
                    session_id=session.id,
                    background="office",
                    attire="as-is",
                    lighting="rembrandt",
                    image_key=key,
                    width=1024,
                    height=1280,
                )
            )


def _export_peak(services: Services, user_id: str) -> tuple[int, int]:
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in services.exporter.export(user_id, actor="user"))
        return total, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_memory_does_not_grow_with_the_account(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    sizes: dict[int, tuple[int, int]] = {}
    for count in (4, 20):
        with services.db.transaction() as db:
            user = User(email=f"bulk{count}@example.com", password_hash="x")
            db.add(user)
            db.flush()
            user_id = user.id
        _account_with_blobs(services, user_id, count, size=2 * 1024 * 1024)
        sizes[count] = _export_peak(services, user_id)
    (small_bytes, small_peak), (large_bytes, large_peak) = sizes[4], sizes[20]
    assert large_bytes > 40 * 1024 * 1024 > small_bytes  # 40 MB of files went through
    # Five times the data, about the same peak (a few KiB per file of zip directory at most).
    assert large_peak < small_peak + 512 * 1024, (small_peak, large_peak)
    assert large_peak < 4 * 1024 * 1024, large_peak


def test_download_all_zips_the_filtered_gallery(
    client: TestClient, services: Services, testdata: Path
) -> None:
    services.settings.validation.min_photos = SMALL_SET["validation"]["min_photos"]
    headers = sign_up(client, "zip@example.com")
    session_id = ready_session(client, headers, testdata)
    model = trained_model(client, headers, session_id)
    generation(client, headers, model["id"], LOOKS[:2], per_look=2)

    everything = client.get(f"{API}/headshots/archive", headers=headers)
    office = client.get(f"{API}/headshots/archive?background=office", headers=headers)

    assert everything.status_code == 200 and everything.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(everything.content)).namelist()
    assert len(names) == 4 and all(n.endswith(".jpg") for n in names)
    chosen = zipfile.ZipFile(io.BytesIO(office.content))
    assert len(chosen.namelist()) == 2 and all("-office-" in n for n in chosen.namelist())
    first = client.get(f"{API}/headshots?background=office", headers=headers).json()["headshots"]
    served = {
        client.get(f"{API}/headshots/{h['id']}/image", headers=headers).content for h in first
    }
    assert {chosen.read(n) for n in chosen.namelist()} == served
    assert client.get(f"{API}/headshots/archive").status_code == 401
