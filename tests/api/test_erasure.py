"""Erasure (Art. 17): `DELETE /me` leaves nothing of the person but an anonymous receipt, shreds
their data key, and asks fal to delete every payload that carried their data; deleting one
session, photo, model version or headshot takes everything derived from it."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.api.app import create_app
from headshot.services.container import Services
from headshot.storage.blobs import BlobStore
from headshot.storage.records import Base, Training
from headshot.storage.vault import DataKeyMissingError, Vault
from headshot.wiring import Runtime, make_blob_store
from tests.api.conftest import PASSWORD, run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, generation, ready_session, trained_model
from tests.api.test_pipeline_fal import fal_runtime
from tests.clock import SettableClock
from tests.fal_double.core import ADMIN_KEY
from tests.fal_double.faults import Fault
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble

LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}


def _everything_in_the_database(services: Services) -> dict[str, list[str]]:
    """Every row of every table, as text (new tables are included automatically)."""
    dump: dict[str, list[str]] = {}
    with services.db.transaction() as db:
        for table in Base.metadata.sorted_tables:
            rows = db.execute(select(table)).mappings().all()
            dump[table.name] = [json.dumps({k: _text(v) for k, v in r.items()}) for r in rows]
    return dump


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _blob_names(services: Services) -> list[str]:
    return list(make_blob_store(services.settings).list(""))


def _full_account(client: TestClient, headers: dict[str, str], testdata: Path) -> dict[str, str]:
    session_id = ready_session(client, headers, testdata)
    model = trained_model(client, headers, session_id)
    made = generation(client, headers, model["id"], [LOOK], per_look=2)
    headshot_id = made["headshot_ids"][0]
    client.post(f"{API}/headshots/{headshot_id}/shares", json={}, headers=headers)
    client.post(f"{API}/auth/tokens", json={"name": "laptop"}, headers=headers)
    client.get(f"{API}/headshots/{headshot_id}/image", headers=headers)
    return {"session_id": session_id, "model_id": model["id"], "headshot_id": headshot_id}


def test_erasing_an_account_leaves_only_an_anonymous_receipt(
    client: TestClient, services: Services, testdata: Path
) -> None:
    services.settings.validation.min_photos = SMALL_SET["validation"]["min_photos"]
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    _full_account(client, alice, testdata)
    ready_session(client, bob, testdata)
    alice_id = client.get(f"{API}/me", headers=alice).json()["id"]
    bob_id = client.get(f"{API}/me", headers=bob).json()["id"]
    vault = services.blobs
    assert isinstance(vault, Vault)
    kept_key = next(iter(vault.keys(alice_id)))
    backup = vault.read_raw(alice_id, kept_key)  # a copy that outlives the erasure

    erased = client.delete(f"{API}/me", headers=alice)

    assert erased.status_code == 200, erased.text
    receipt = erased.json()
    assert receipt["scope"] == "account" and receipt["status"] == "complete"
    assert receipt["deleted"]["photos"] == 3 and receipt["deleted"]["headshots"] == 2
    assert receipt["deleted"]["model_versions"] == 1 and receipt["deleted"]["files"] > 6
    assert receipt["provider_deletions"] == {"pending": 0, "done": 0, "last_error": None}
    dump = _everything_in_the_database(services)
    for table, rows in dump.items():
        for row in rows:
            assert alice_id not in row and "alice@" not in row, f"{table}: {row}"
    assert [json.loads(r)["id"] for r in dump["deletion_receipts"]] == [receipt["id"]]
    assert any(bob_id in row for row in dump["photos"])  # the scan sees real data
    assert all(alice_id not in name for name in _blob_names(services))
    assert any(bob_id in name for name in _blob_names(services))
    # Crypto-shredding: ciphertext restored from a backup cannot be read any more.
    store: BlobStore = make_blob_store(services.settings)
    store.put(f"u/{alice_id}/{kept_key}", [backup])
    with pytest.raises(DataKeyMissingError):
        vault.read(alice_id, kept_key)

    # The account is unusable: its token is dead and its password opens nothing.
    assert client.get(f"{API}/me", headers=alice).status_code == 401
    login = {"email": "alice@example.com", "password": PASSWORD}
    assert client.post(f"{API}/auth/login", json=login).status_code == 401
    # The receipt stays readable by its id alone, without logging in.
    public = client.get(receipt["status_url"])
    assert public.status_code == 200 and public.json()["id"] == receipt["id"]
    assert client.get(f"{API}/deletion-receipts/{'x' * 43}").status_code == 404
    assert client.get(f"{API}/me", headers=bob).status_code == 200


def test_erasure_reaches_fal_and_the_receipt_completes_after_a_restart(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    clock: SettableClock,
    testdata: Path,
) -> None:
    master = base64.b64encode(secrets.token_bytes(32)).decode()  # the same in both processes
    runtime = fal_runtime(
        make_runtime, fal_double, **SMALL_SET, fal_admin_key=ADMIN_KEY, master_key=master
    )
    with TestClient(create_app(runtime.services), base_url="https://testserver") as client:
        headers = sign_up(client, "fal-erase@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        run_scheduled(runtime)
        body = {"model_id": started.json()["id"], "looks": [LOOK, LOOK], "images_per_look": 1}
        client.post(f"{API}/generations", json=body, headers=headers)
        run_scheduled(runtime)
        request_ids = set(fal_double.requests)
        assert len(request_ids) == 3  # one training, one generation request per look
        audit = client.get(f"{API}/me/audit", headers=headers).json()["items"]
        transfers = [e for e in audit if e["action"] == "provider.transfer"]
        assert len(transfers) == 3 and all(e["detail"]["provider"] == "fal" for e in transfers)

        fal_double.inject(Fault("delete_payloads", "status", status=503, times=0))
        erased = client.delete(f"{API}/me", headers=headers).json()
    assert erased["status"] == "pending"
    assert erased["provider_deletions"]["pending"] == 3
    runtime.close()

    # A new process (the worker restarted); fal is healthy again.
    fal_double.clear_faults()
    restarted = fal_runtime(
        make_runtime, fal_double, **SMALL_SET, fal_admin_key=ADMIN_KEY, master_key=master
    )
    clock.advance(days=1)
    restarted.services.erasure.run_provider_deletions()

    deleted = {
        r.path.rsplit("/", 2)[-2]
        for r in fal_double.received_on("delete_payloads")
        if "admin-secret" in r.headers.get("authorization", "")
    }
    assert deleted == request_ids
    with TestClient(create_app(restarted.services), base_url="https://testserver") as client:
        receipt = client.get(erased["status_url"]).json()
    assert receipt["status"] == "complete" and receipt["completed_at"]
    assert receipt["provider_deletions"]["done"] == 3
    assert all(not r.files for r in fal_double.requests.values())  # outputs gone at fal


def test_deleting_a_session_takes_its_models_headshots_and_files(
    client: TestClient, services: Services, testdata: Path
) -> None:
    services.settings.validation.min_photos = SMALL_SET["validation"]["min_photos"]
    headers = sign_up(client, "carol@example.com")
    ids = _full_account(client, headers, testdata)
    user_id = client.get(f"{API}/me", headers=headers).json()["id"]
    vault = services.blobs
    assert isinstance(vault, Vault)
    assert len(list(vault.keys(user_id))) >= 3 * 3 + 1 + 2  # photos x3, LoRA, headshots

    gone = client.delete(f"{API}/sessions/{ids['session_id']}", headers=headers)

    assert gone.status_code == 204
    receipt = client.get(gone.headers["Deletion-Receipt"]).json()
    assert receipt["scope"] == "session" and receipt["status"] == "complete"
    assert receipt["deleted"]["headshots"] == 2 and receipt["deleted"]["model_versions"] == 1
    assert list(vault.keys(user_id)) == []
    assert client.get(f"{API}/headshots", headers=headers).json()["headshots"] == []
    assert client.get(f"{API}/models/{ids['model_id']}", headers=headers).status_code == 404


def test_deleting_a_model_or_headshot_or_photo_answers_with_a_receipt(
    client: TestClient, services: Services, testdata: Path
) -> None:
    services.settings.validation.min_photos = SMALL_SET["validation"]["min_photos"]
    headers = sign_up(client, "dan@example.com")
    ids = _full_account(client, headers, testdata)
    photo_id = client.get(f"{API}/sessions/{ids['session_id']}/photos", headers=headers).json()[
        "photos"
    ][0]["id"]

    for path, scope in (
        (f"/headshots/{ids['headshot_id']}", "headshot"),
        (f"/models/{ids['model_id']}", "model"),
        (f"/photos/{photo_id}", "photo"),
    ):
        gone = client.delete(f"{API}{path}", headers=headers)
        assert gone.status_code == 204, gone.text
        assert client.get(gone.headers["Deletion-Receipt"]).json()["scope"] == scope
        assert client.get(f"{API}{path}", headers=headers).status_code == 404
    with services.db.transaction() as db:
        assert db.scalars(select(Training)).first() is None


def test_the_audit_log_shows_the_person_every_access(
    client: TestClient, services: Services, testdata: Path
) -> None:
    services.settings.validation.min_photos = SMALL_SET["validation"]["min_photos"]
    headers = sign_up(client, "erin@example.com")
    ids = _full_account(client, headers, testdata)
    client.delete(f"{API}/headshots/{ids['headshot_id']}", headers=headers)

    first = client.get(f"{API}/me/audit", params={"limit": 3}, headers=headers).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    everything = client.get(f"{API}/me/audit", params={"limit": 200}, headers=headers).json()
    actions = [e["action"] for e in everything["items"]]
    assert actions[0] == "headshot.delete"  # newest first
    for action in ("consent.give", "photo.upload", "training.start", "share.create"):
        assert action in actions
    rest = client.get(
        f"{API}/me/audit", params={"cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert rest["items"][0] == everything["items"][3]
    assert (
        client.get(f"{API}/me/audit", params={"cursor": "x'"}, headers=headers).status_code == 422
    )
    # Only operators read the whole log.
    assert client.get(f"{API}/admin/audit", headers=headers).status_code == 404
