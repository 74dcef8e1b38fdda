"""Retention with an injected clock: the clock moves past each limit and the data goes, and not a
moment before. Mail goes to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from headshot.api.app import create_app
from headshot.cli import build_cli
from headshot.domain.retention import inactivity_action
from headshot.services.container import Services
from headshot.storage.blobs import BlobError
from headshot.storage.records import Photo, PhotoSession, Training, User, new_id
from headshot.storage.vault import Vault
from headshot.wiring import Runtime, make_blob_store
from tests.api.conftest import PASSWORD, sign_up
from tests.api.mail_helpers import Inbox
from tests.api.pipeline_helpers import API, SMALL_SET, generation, ready_session, trained_model
from tests.clock import SettableClock

LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}


def _photo_rows(services: Services, session_id: str) -> list[Photo]:
    with services.db.transaction() as db:
        return list(db.scalars(select(Photo).where(Photo.session_id == session_id)))


def test_source_photos_go_days_after_the_last_training(
    make_runtime: Callable[..., Runtime], clock: SettableClock, testdata: Path
) -> None:
    services = make_runtime(**SMALL_SET).services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "keep@example.com")
        session_id = ready_session(client, headers, testdata)
        model = trained_model(client, headers, session_id)
        made = generation(client, headers, model["id"], [LOOK], per_look=1)
        user_id = client.get(f"{API}/me", headers=headers).json()["id"]
        vault = services.blobs
        assert isinstance(vault, Vault)
        photo_keys = [k for k in vault.keys(user_id) if k.startswith("photos/")]
        assert len(photo_keys) == 9

        clock.advance(days=29, hours=23)
        assert services.retention.run().photos_deleted == 0
        assert len(_photo_rows(services, session_id)) == 3

        clock.advance(hours=2)
        report = services.retention.run()

        assert report.photos_deleted == 3 and report.sessions_purged == 1
        assert _photo_rows(services, session_id) == []
        assert not [k for k in vault.keys(user_id) if k.startswith("photos/")]
        with services.db.transaction() as db:
            session = db.get(PhotoSession, session_id)
            assert session is not None and session.photos_purged_at == clock.now
        # The model version and its headshots stay (a new login: the old one expired meanwhile).
        login = {"email": "keep@example.com", "password": PASSWORD}
        token = client.post(f"{API}/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(f"{API}/models/{model['id']}", headers=headers).status_code == 200
        image = client.get(f"{API}/headshots/{made['headshot_ids'][0]}/image", headers=headers)
        assert image.status_code == 200
        audit = client.get(f"{API}/me/audit", headers=headers).json()["items"]
        expired = next(e for e in audit if e["action"] == "photos.expire")
        assert expired["actor"] == "retention" and expired["detail"] == {"photos": 3}
        assert services.retention.run().photos_deleted == 0  # idempotent


def test_a_running_training_keeps_the_photos(
    make_runtime: Callable[..., Runtime], clock: SettableClock, testdata: Path
) -> None:
    services = make_runtime(**SMALL_SET).services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "busy@example.com")
        session_id = ready_session(client, headers, testdata)
        trained_model(client, headers, session_id)
    with services.db.transaction() as db:  # a second training is under way
        first = db.scalars(select(Training)).one()
        db.add(
            Training(
                user_id=first.user_id,
                session_id=session_id,
                version=2,
                engine="studio",
                status="running",
            )
        )
    clock.advance(days=60)
    assert services.retention.run().photos_deleted == 0
    assert len(_photo_rows(services, session_id)) == 3


def test_inactive_accounts_are_warned_then_erased(
    make_runtime: Callable[..., Runtime],
    clock: SettableClock,
    testdata: Path,
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    runtime = make_runtime(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="privacy@example.org")
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        sign_up(client, "gone@example.com")
        sign_up(client, "back@example.com")
        clock.advance(days=364)
        assert services.retention.run().accounts_warned == 0

        clock.advance(days=1, minutes=1)
        report = services.retention.run()

        assert report.accounts_warned == 2 and report.accounts_erased == 0
        warnings = [m for m in handler.messages if "will be erased on" in m.get_payload()]
        assert sorted(m["To"] for m in warnings) == ["back@example.com", "gone@example.com"]
        assert all(m["From"] == "privacy@example.org" for m in handler.messages)
        assert services.retention.run().accounts_warned == 0  # warned once

        clock.advance(days=10)
        login = {"email": "back@example.com", "password": PASSWORD}
        assert client.post(f"{API}/auth/login", json=login).status_code == 200  # came back
        clock.advance(days=20)
        report = services.retention.run()

        assert report.accounts_erased == 1
        with services.db.transaction() as db:
            emails = list(db.scalars(select(User.email)))
        assert emails == ["back@example.com"]
        gone = {"email": "gone@example.com", "password": PASSWORD}
        assert client.post(f"{API}/auth/login", json=gone).status_code == 401


def test_without_a_mail_server_the_warning_is_recorded(
    make_runtime: Callable[..., Runtime], clock: SettableClock
) -> None:
    services = make_runtime().services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        sign_up(client, "quiet@example.com")
        clock.advance(days=366)
        assert services.retention.run().accounts_warned == 1
        login = {"email": "quiet@example.com", "password": PASSWORD}
        token = client.post(f"{API}/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        audit = client.get(f"{API}/me/audit", headers=headers).json()["items"]
        with services.db.transaction() as db:
            user = db.scalars(select(User)).one()
            assert user.inactivity_warned_at is None  # signing in cleared the warning
    warning = next(e for e in audit if e["action"] == "account.inactivity_warning")
    assert warning["detail"]["mailed"] is False


def test_inactivity_rule() -> None:
    day = SettableClock().now
    rule = {"warn_days": 10, "grace_days": 5}
    assert inactivity_action(last_active=day, warned_at=None, now=day, **rule) is None
    later = day.replace(day=day.day + 10)
    assert inactivity_action(last_active=day, warned_at=None, now=later, **rule) == "warn"
    assert inactivity_action(last_active=day, warned_at=later, now=later, **rule) is None
    end = later.replace(day=later.day + 5)
    assert inactivity_action(last_active=day, warned_at=later, now=end, **rule) == "erase"
    # Activity after the warning starts the count again.
    assert inactivity_action(last_active=end, warned_at=later, now=end, **rule) is None


def test_retention_run_from_the_cli(
    make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(master_key=None)
    monkeypatch.setenv("HEADSHOT_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("HEADSHOT_DATABASE_URL", services.settings.effective_database_url)
    # A file a crash left two hours ago (the command runs on the real clock).
    key = f"u/{new_id()}/photos/{new_id()}/original"
    make_blob_store(services.settings).put(key, [b"ciphertext"])
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).timestamp()
    os.utime(Path(urlsplit(services.settings.effective_blob_url).path, key), (two_hours_ago,) * 2)

    result = CliRunner().invoke(build_cli(), ["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "photos deleted" in result.output and "accounts erased" in result.output
    assert re.search(r"orphans deleted\W+1\b", result.output), result.output
    assert not make_blob_store(services.settings).exists(key)


def test_what_a_crash_leaves_goes_after_the_grace_period(
    make_runtime: Callable[..., Runtime],
    clock: SettableClock,
    testdata: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = datetime.now(UTC)  # stored files are dated by the real clock
    services = make_runtime(**SMALL_SET).services
    vault = services.blobs
    assert isinstance(vault, Vault)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "crash@example.com")
        session_id = ready_session(client, headers, testdata)
        model = trained_model(client, headers, session_id)
        made = generation(client, headers, model["id"], [LOOK], per_look=1)
        headshot_id = made["headshot_ids"][0]
        thumb = f"{API}/headshots/{headshot_id}/image?size=thumb"
        assert client.get(thumb, headers=headers).status_code == 200  # stores a thumbnail
        user_id = client.get(f"{API}/me", headers=headers).json()["id"]
        kept = sorted(vault.keys(user_id))
        assert {k.split("/")[0] for k in kept} == {"photos", "models", "headshots"}

        def storage_down(*_: Any) -> None:
            raise BlobError("could not delete the blob: Input/output error")

        def process_dies(*_: Any, **__: Any) -> None:
            raise RuntimeError("the process died")

        # A crash mid-upload: the files are stored, the record is never written, and the
        # cleanup's deletes fail.
        with monkeypatch.context() as patch:
            patch.setattr(services.photos, "_record", process_dies)
            patch.setattr(vault, "delete", storage_down)
            photo = ("files", ("me.jpg", (testdata / "pd_grace_hopper.jpg").read_bytes()))
            with pytest.raises(RuntimeError, match="the process died"):
                client.post(f"{API}/sessions/{session_id}/photos", files=[photo], headers=headers)
            # Crashes mid-generation and mid-training, after the file and before the record.
            vault.put(user_id, f"headshots/{new_id()}.jpg", b"an unrecorded headshot")
            vault.put(user_id, f"models/{new_id()}/lora.safetensors", b"unrecorded weights")
            # An account erased while storage was down: its files could not be deleted.
            gone = sign_up(client, "gone@example.com")
            gone_id = client.get(f"{API}/me", headers=gone).json()["id"]
            vault.put(gone_id, f"photos/{new_id()}/original", b"the erased person's photo")
            assert client.delete(f"{API}/me", headers=gone).status_code == 200
        orphaned = sorted(set(vault.keys(user_id)) - set(kept))
        assert len(orphaned) == 5  # three renditions of the photo, a headshot, the weights
        assert len(list(vault.keys(gone_id))) == 1

        clock.now = datetime.now(UTC)
        assert services.retention.run().orphans_deleted == 0  # any of them may be in flight

        clock.now = datetime.now(UTC) + timedelta(hours=1, minutes=1)
        report = services.retention.run()

        assert report.orphans_deleted == 6
        assert sorted(vault.keys(user_id)) == kept
        assert list(vault.keys(gone_id)) == []
        for key in kept:
            assert vault.read(user_id, key)
        login = {"email": "crash@example.com", "password": PASSWORD}
        token = client.post(f"{API}/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        photos = client.get(f"{API}/sessions/{session_id}/photos", headers=headers).json()
        assert len(photos["photos"]) == 3
        for view in photos["photos"]:
            image = client.get(f"{API}/photos/{view['id']}/image", headers=headers)
            assert image.status_code == 200
        for size in ("full", "thumb"):
            image = client.get(f"{API}/headshots/{headshot_id}/image?size={size}", headers=headers)
            assert image.status_code == 200
        assert services.retention.run().orphans_deleted == 0
