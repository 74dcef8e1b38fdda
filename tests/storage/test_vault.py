"""The vault over real blob stores: nothing stored in the clear, rotation, crypto-shredding."""

from __future__ import annotations

import os
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from headshot.storage.blobs import BlobError, BlobNotFoundError, BlobStore, read_all
from headshot.storage.blobs_fs import FsBlobStore
from headshot.storage.blobs_memory import MemoryBlobStore
from headshot.storage.crypto import (
    DecryptionError,
    MasterKey,
    MasterKeyring,
    UnknownMasterKeyError,
    WrappedKey,
    sealed_size,
)
from headshot.storage.keyring import load_master_keyring, retire_previous, rotate_key_file
from headshot.storage.vault import (
    DataKeyMissingError,
    DataKeyStore,
    MemoryDataKeyStore,
    StoredDataKey,
    Vault,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(5000) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(70_000)
MiB = 1024 * 1024


def _ring() -> MasterKeyring:
    return MasterKeyring(MasterKey.of(os.urandom(32)))


@pytest.fixture(params=["memory", "fs"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return MemoryBlobStore() if request.param == "memory" else FsBlobStore(tmp_path / "blobs")


def _stored(blobs: BlobStore) -> dict[str, bytes]:
    return {key: read_all(blobs, key) for key in blobs.list()}


def test_nothing_is_stored_in_the_clear(blobs: BlobStore) -> None:
    vault = Vault(blobs=blobs, keyring=_ring(), data_keys=MemoryDataKeyStore())
    assert vault.put("alice", "photos/1/original", JPEG) == len(JPEG)
    assert vault.put("alice", "photos/2/original", iter([PNG[:3], PNG[3:]])) == len(PNG)
    assert sorted(blobs.list()) == ["u/alice/photos/1/original", "u/alice/photos/2/original"]
    for raw in _stored(blobs).values():
        # Short magic numbers only where a file starts: random bytes hold any 3 now and then.
        assert not raw.startswith((b"\xff\xd8\xff", b"\x89PNG"))
        for marker in (b"JFIF\x00", JPEG[100:116], PNG[1000:1016]):
            assert marker not in raw
    assert len(vault.read_raw("alice", "photos/2/original")) == sealed_size(len(PNG))
    assert vault.read("alice", "photos/1/original") == JPEG
    assert b"".join(vault.open("alice", "photos/2/original")) == PNG
    assert sorted(vault.keys("alice")) == ["photos/1/original", "photos/2/original"]
    assert vault.exists("alice", "photos/1/original")
    vault.delete("alice", "photos/1/original")
    assert not vault.exists("alice", "photos/1/original")
    with pytest.raises(BlobNotFoundError):
        vault.open("alice", "photos/1/original")


def test_ciphertext_cannot_move_between_users_or_keys(blobs: BlobStore) -> None:
    vault = Vault(blobs=blobs, keyring=_ring(), data_keys=MemoryDataKeyStore())
    vault.put("alice", "x", b"alice's secret")
    vault.put("alice", "y", b"alice's other")
    vault.put("bob", "x", b"bob's")
    blobs.put("u/bob/x", blobs.get("u/alice/x"))
    blobs.put("u/alice/y", blobs.get("u/alice/x"))
    for user, key in (("bob", "x"), ("alice", "y")):
        with pytest.raises(DecryptionError):
            vault.read(user, key)


def test_tampering_with_a_stored_blob_is_detected(blobs: BlobStore) -> None:
    vault = Vault(blobs=blobs, keyring=_ring(), data_keys=MemoryDataKeyStore())
    vault.put("alice", "x", PNG)
    raw = bytearray(read_all(blobs, "u/alice/x"))
    raw[len(raw) // 2] ^= 1
    blobs.put("u/alice/x", [bytes(raw)])
    with pytest.raises(DecryptionError):
        vault.read("alice", "x")


@pytest.mark.parametrize("user_id", ["", "a/b", "..", "a\x00b"])
def test_user_ids_cannot_leave_their_namespace(user_id: str) -> None:
    vault = Vault(blobs=MemoryBlobStore(), keyring=_ring(), data_keys=MemoryDataKeyStore())
    with pytest.raises(BlobError):
        vault.put(user_id, "x", b"data")
    with pytest.raises(BlobError):
        list(vault.keys(user_id))


def test_rotation_keeps_every_blob_readable_and_unchanged(blobs: BlobStore, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    data_keys = MemoryDataKeyStore()
    first = load_master_keyring(configured=None, previous=[], key_file=key_file)
    vault = Vault(blobs=blobs, keyring=first, data_keys=data_keys)
    vault.put("alice", "photos/1", JPEG)
    vault.put("bob", "photos/9", [JPEG[:10], JPEG[10:]])
    before = _stored(blobs)

    ring = rotate_key_file(key_file)
    assert vault.rewrap_all(ring) == 2
    assert vault.rewrap_all(ring) == 0, "already current"
    assert Vault.master_keys_in_use(data_keys) == {ring.current.key_id}
    retire_previous(key_file, in_use=Vault.master_keys_in_use(data_keys))
    vault.put("carol", "x", b"after rotation")

    restarted = Vault(
        blobs=blobs,
        keyring=load_master_keyring(configured=None, previous=[], key_file=key_file),
        data_keys=data_keys,
    )
    assert restarted.read("alice", "photos/1") == JPEG
    assert restarted.read("bob", "photos/9") == JPEG
    assert restarted.read("carol", "x") == b"after rotation"
    assert {k: v for k, v in _stored(blobs).items() if "carol" not in k} == before
    with pytest.raises(UnknownMasterKeyError):
        Vault(blobs=blobs, keyring=first, data_keys=data_keys).read("alice", "photos/1")


def test_destroying_a_key_shreds_the_users_blobs(blobs: BlobStore) -> None:
    vault = Vault(blobs=blobs, keyring=_ring(), data_keys=MemoryDataKeyStore())
    vault.put("alice", "photos/1", JPEG)
    vault.put("bob", "photos/1", JPEG)
    assert vault.read("alice", "photos/1") == JPEG  # now cached
    vault.destroy_user_key("alice")
    with pytest.raises(DataKeyMissingError, match="unreadable"):
        vault.open("alice", "photos/1")
    with pytest.raises(BlobNotFoundError):
        vault.open("alice", "photos/2")  # a missing blob is still reported as missing
    assert vault.read("bob", "photos/1") == JPEG
    vault.put("alice", "photos/3", b"new life")  # a fresh key: old blobs stay unreadable
    assert vault.read("alice", "photos/3") == b"new life"
    with pytest.raises(DecryptionError):
        vault.read("alice", "photos/1")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_another_process_shredding_takes_effect_within_the_cache_time() -> None:
    blobs, data_keys, ring, clock = MemoryBlobStore(), MemoryDataKeyStore(), _ring(), _Clock()
    here = Vault(blobs=blobs, keyring=ring, data_keys=data_keys, cache_seconds=60, clock=clock)
    elsewhere = Vault(blobs=blobs, keyring=ring, data_keys=data_keys)
    here.put("alice", "x", b"data")
    elsewhere.destroy_user_key("alice")
    clock.now = 59.0
    assert here.read("alice", "x") == b"data"
    clock.now = 61.0
    with pytest.raises(DataKeyMissingError):
        here.read("alice", "x")


class _RacingDataKeys(MemoryDataKeyStore):
    """Every caller reaches `create` before any of them has stored a key."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self._barrier = threading.Barrier(parties)

    def create(self, user_id: str, wrapped: WrappedKey) -> StoredDataKey:
        self._barrier.wait()
        return super().create(user_id, wrapped)


def test_first_puts_racing_for_a_new_user_share_one_key() -> None:
    data_keys: DataKeyStore = _RacingDataKeys(6)
    vault = Vault(blobs=MemoryBlobStore(), keyring=_ring(), data_keys=data_keys, cache_size=0)
    threads = [
        threading.Thread(target=vault.put, args=("alice", f"k{i}", f"v{i}".encode()))
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [vault.read("alice", f"k{i}") for i in range(6)] == [f"v{i}".encode() for i in range(6)]


class _Chunks(Iterator[bytes]):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.closed = False

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self.closed = True


class _ClosableBlobs(MemoryBlobStore):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[_Chunks] = []

    def get(self, key: str) -> Iterator[bytes]:
        self.opened.append(_Chunks(super().get(key)))
        return self.opened[-1]


def test_streams_are_closed_when_reading_stops_or_cannot_start() -> None:
    blobs, data_keys = _ClosableBlobs(), MemoryDataKeyStore()
    vault = Vault(blobs=blobs, keyring=_ring(), data_keys=data_keys)
    vault.put("alice", "x", PNG)
    stream = vault.open("alice", "x")
    next(stream)
    stream.close()  # e.g. the client went away mid-download
    assert blobs.opened[-1].closed
    vault.destroy_user_key("alice")
    with pytest.raises(DataKeyMissingError):
        vault.open("alice", "x")
    assert blobs.opened[-1].closed


def test_a_large_blob_streams_through_in_bounded_memory(tmp_path: Path) -> None:
    vault = Vault(blobs=FsBlobStore(tmp_path), keyring=_ring(), data_keys=MemoryDataKeyStore())
    block = os.urandom(MiB)
    tracemalloc.start()
    try:
        assert vault.put("alice", "lora/weights", (block for _ in range(64))) == 64 * MiB
        total = sum(len(chunk) for chunk in vault.open("alice", "lora/weights"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 64 * MiB
    assert peak < 4 * MiB, f"peak {peak} bytes for a 64 MiB blob"
