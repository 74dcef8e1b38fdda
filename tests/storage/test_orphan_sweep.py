"""The orphan sweep over every blob store (memory, filesystem, S3 on moto) and a real database:
files that no record names go once older than the grace period, and nothing else does."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from headshot.services import orphans
from headshot.services.orphans import OrphanSweep
from headshot.storage.blobs import BlobError, BlobInfo, BlobStore
from headshot.storage.blobs_fs import FsBlobStore
from headshot.storage.blobs_memory import MemoryBlobStore
from headshot.storage.crypto import MasterKey, MasterKeyring
from headshot.storage.data_keys import SqlDataKeyStore
from headshot.storage.db import Database, make_engine
from headshot.storage.migrate import upgrade
from headshot.storage.records import (
    Generation,
    Headshot,
    Photo,
    PhotoSession,
    Training,
    User,
    new_id,
)
from headshot.storage.vault import Vault
from tests.clock import SettableClock

GRACE = timedelta(hours=1)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'sweep.db'}"))
    upgrade(database.engine)
    yield database
    database.dispose()


def _vault(db: Database, blobs: BlobStore) -> Vault:
    ring = MasterKeyring(MasterKey.of(os.urandom(32)))
    return Vault(blobs=blobs, keyring=ring, data_keys=SqlDataKeyStore(db))


def _user(db: Database, email: str) -> str:
    with db.transaction() as session:
        user = User(email=email, password_hash="not a real hash")
        session.add(user)
        session.flush()
        return user.id


def _records(db: Database, user_id: str) -> list[str]:
    """A photo, a trained model with its selfie zip, and a headshot with its thumbnail: every
    kind of key a record names. Returns those keys."""
    photo_id, training_id, headshot_id = new_id(), new_id(), new_id()
    keys = {
        "original": f"photos/{photo_id}/original",
        "training": f"photos/{photo_id}/training",
        "thumb": f"photos/{photo_id}/thumb",
        "weights": f"models/{training_id}/lora.safetensors",
        "dataset": f"datasets/{training_id}.zip",
        "image": f"headshots/{headshot_id}.jpg",
        "headshot_thumb": f"headshots/{headshot_id}.thumb.jpg",
    }
    with db.transaction() as session:
        batch = PhotoSession(user_id=user_id, name="Me")
        session.add(batch)
        session.flush()
        session.add(
            Photo(
                id=photo_id,
                user_id=user_id,
                session_id=batch.id,
                filename="me.jpg",
                accepted=True,
                width=10,
                height=10,
                mime="image/jpeg",
                sha256="0" * 64,
                original_key=keys["original"],
                training_key=keys["training"],
                thumb_key=keys["thumb"],
            )
        )
        session.add(
            Training(
                id=training_id,
                user_id=user_id,
                session_id=batch.id,
                version=1,
                engine="studio",
                status="running",
                weights_key=keys["weights"],
                dataset_key=keys["dataset"],
            )
        )
        session.flush()
        generation = Generation(user_id=user_id, model_id=training_id, engine="studio")
        session.add(generation)
        session.flush()
        session.add(
            Headshot(
                id=headshot_id,
                user_id=user_id,
                generation_id=generation.id,
                model_id=training_id,
                session_id=batch.id,
                background="studio-grey",
                attire="as-is",
                lighting="soft-studio",
                image_key=keys["image"],
                thumb_key=keys["headshot_thumb"],
                width=10,
                height=10,
            )
        )
    return list(keys.values())


def _sweep(db: Database, blobs: BlobStore, clock: Callable[[], datetime]) -> OrphanSweep:
    return OrphanSweep(db=db, blobs=blobs, clock=clock, grace=GRACE)


def test_only_unnamed_files_past_the_grace_period_go(
    db: Database, blob_store: BlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    written = datetime.now(UTC)
    vault = _vault(db, blob_store)
    alice = _user(db, "alice@example.com")
    named = _records(db, alice)
    for key in named:
        vault.put(alice, key, f"the file at {key}".encode())
    # What crashes leave: files of every kind whose records were never written.
    unnamed = [f"photos/{new_id()}/original", f"headshots/{new_id()}.jpg", "models/x/lora.bin"]
    for key in unnamed:
        vault.put(alice, key, b"left behind")
    blob_store.put("u/ghost/photos/1/original", [b"an unknown user's ciphertext"])
    blob_store.put("u/stray", [b"no user folder at all"])
    outside = ["other/x", "ux/1", "keys/master"]
    for key in outside:
        blob_store.put(key, [b"not the users' part of the store"])
    everything = sorted(blob_store.list())

    clock = SettableClock(written + GRACE - timedelta(minutes=1))
    assert _sweep(db, blob_store, clock).sweep() == 0  # within grace: all kept
    assert sorted(blob_store.list()) == everything

    clock.advance(minutes=2)
    with caplog.at_level(logging.INFO, logger="headshot.services.orphans"):
        deleted = _sweep(db, blob_store, clock).sweep()

    assert deleted == len(unnamed) + 2
    assert sorted(blob_store.list()) == sorted([f"u/{alice}/{k}" for k in named] + outside)
    for key in named:
        assert vault.read(alice, key) == f"the file at {key}".encode()
    logged = [r.getMessage() for r in caplog.records if r.name == orphans.__name__]
    assert logged == ["orphan sweep deleted 5 files"]  # a count, no names
    assert _sweep(db, blob_store, clock).sweep() == 0  # nothing left to do


def test_files_of_an_erased_account_go_even_if_named(db: Database, blob_store: BlobStore) -> None:
    written = datetime.now(UTC)
    vault = _vault(db, blob_store)
    alice, bob = _user(db, "alice@example.com"), _user(db, "bob@example.com")
    for user in (alice, bob):
        for key in _records(db, user):
            vault.put(user, key, b"x")
    with db.transaction() as session:
        # Erasing the user cascades to the data key and every record (the erasure's deletes of
        # the files failed, say): what is left is unreadable and named by nothing.
        session.delete(session.get(User, alice))

    deleted = _sweep(db, blob_store, SettableClock(written + GRACE + timedelta(minutes=1))).sweep()

    assert deleted == 7
    assert not list(blob_store.list(f"u/{alice}/"))
    assert len(list(blob_store.list(f"u/{bob}/"))) == 7


def test_a_user_without_a_data_key_has_no_readable_files(db: Database) -> None:
    start = SettableClock()
    blobs = MemoryBlobStore(clock=start)
    alice = _user(db, "alice@example.com")
    blobs.put(f"u/{alice}/photos/1/original", [b"written under a key that is gone"])
    start.advance(hours=2)
    assert _sweep(db, blobs, start).sweep() == 1


def test_half_written_files_of_killed_puts_go_too(db: Database, tmp_path: Path) -> None:
    blobs = FsBlobStore(tmp_path / "blobs")
    vault = _vault(db, blobs)
    alice = _user(db, "alice@example.com")
    named = _records(db, alice)
    for key in named:
        vault.put(alice, key, b"x")
    partial = tmp_path / "blobs/u" / alice / "photos/killed/~incoming-1"
    partial.parent.mkdir()
    partial.write_bytes(b"the first segments of a photo")
    two_hours_ago = (datetime.now(UTC) - 2 * GRACE).timestamp()
    os.utime(partial, (two_hours_ago, two_hours_ago))

    assert _sweep(db, blobs, SettableClock(datetime.now(UTC))).sweep() == 1

    assert not partial.parent.exists()
    assert sorted(blobs.list()) == sorted(f"u/{alice}/{key}" for key in named)


class _UploadDuringListing(MemoryBlobStore):
    """A store double that lets an upload (file, then record) happen while it is listed."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(clock=clock)
        self.upload: Callable[[], None] = lambda: None

    def list_modified(self, prefix: str = "") -> Iterator[BlobInfo]:
        listed = list(super().list_modified(prefix))
        self.upload()
        return iter(listed)


def test_a_file_recorded_after_the_listing_is_kept(db: Database) -> None:
    clock = SettableClock()
    blobs = _UploadDuringListing(clock)
    vault = _vault(db, blobs)
    alice = _user(db, "alice@example.com")
    vault.put(alice, "photos/old/original", b"a crash left this an hour ago")
    clock.advance(hours=1, seconds=1)
    vault.put(alice, "photos/new/original", b"being uploaded while the sweep lists")

    def upload() -> None:
        # The upload's record commits after the listing; its file was written just before.
        with db.transaction() as session:
            batch = PhotoSession(user_id=alice, name="Me")
            session.add(batch)
            session.flush()
            session.add(
                Photo(
                    user_id=alice,
                    session_id=batch.id,
                    filename="me.jpg",
                    accepted=True,
                    width=1,
                    height=1,
                    mime="image/jpeg",
                    sha256="0" * 64,
                    original_key="photos/new/original",
                )
            )

    blobs.upload = upload
    assert _sweep(db, blobs, clock).sweep() == 1
    assert list(blobs.list()) == [f"u/{alice}/photos/new/original"]


def test_a_user_with_many_files_is_swept_in_rounds(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orphans, "BATCH", 2)
    clock = SettableClock()
    blobs = MemoryBlobStore(clock=clock)
    vault = _vault(db, blobs)
    alice = _user(db, "alice@example.com")
    named = _records(db, alice)
    for key in [*named, "photos/a/original", "photos/b/original", "photos/c/original"]:
        vault.put(alice, key, b"x")
    clock.advance(hours=2)

    assert _sweep(db, blobs, clock).sweep() == 3
    assert sorted(blobs.list()) == sorted(f"u/{alice}/{key}" for key in named)


class _Unreliable(MemoryBlobStore):
    """A store double whose deletes or listings fail, as a storage outage would."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(clock=clock)
        self.deletes_fail = False
        self.listing_fails_after = -1

    def delete(self, key: str) -> None:
        if self.deletes_fail:
            raise BlobError("could not delete the blob: Permission denied")
        super().delete(key)

    def list_modified(self, prefix: str = "") -> Iterator[BlobInfo]:
        for index, info in enumerate(super().list_modified(prefix)):
            if index == self.listing_fails_after:
                raise BlobError("could not list blobs: ServiceUnavailable")
            yield info


def test_storage_failures_are_logged_and_left_for_the_next_run(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SettableClock()
    blobs = _Unreliable(clock)
    for user in ("a", "b", "c"):
        blobs.put(f"u/{user}/photos/1/original", [b"x"])
    clock.advance(hours=2)
    sweep = _sweep(db, blobs, clock)

    blobs.deletes_fail = True
    with caplog.at_level(logging.WARNING, logger="headshot.services.orphans"):
        assert sweep.sweep() == 0
    assert "could not delete a file: could not delete the blob: Permission denied" in caplog.text
    assert len(list(blobs.list())) == 3

    blobs.deletes_fail, blobs.listing_fails_after = False, 2
    with caplog.at_level(logging.WARNING, logger="headshot.services.orphans"):
        assert sweep.sweep() == 1  # user a's file went; the listing broke on user c's
    assert "orphan sweep stopped: could not list blobs: ServiceUnavailable" in caplog.text

    blobs.listing_fails_after = -1
    assert sweep.sweep() == 2
    assert list(blobs.list()) == []
