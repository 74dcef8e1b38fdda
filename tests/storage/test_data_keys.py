"""The `DataKeyStore` contract, for every implementation listed in `conftest.data_key_store`."""

from __future__ import annotations

import threading

from headshot.storage.crypto import WrappedKey
from headshot.storage.vault import DataKeyStore, StoredDataKey

FIRST = WrappedKey(master_key_id="m1", ciphertext=b"one")
SECOND = WrappedKey(master_key_id="m1", ciphertext=b"two")


def test_create_get_list(data_key_store: DataKeyStore) -> None:
    assert data_key_store.get("alice") is None
    stored = data_key_store.create("alice", FIRST)
    assert stored == StoredDataKey("alice", FIRST) == data_key_store.get("alice")
    data_key_store.create("bob", SECOND)
    assert sorted(s.user_id for s in data_key_store.list_all()) == ["alice", "bob"]


def test_create_returns_the_existing_key(data_key_store: DataKeyStore) -> None:
    data_key_store.create("alice", FIRST)
    assert data_key_store.create("alice", SECOND).wrapped == FIRST
    assert data_key_store.get("alice") == StoredDataKey("alice", FIRST)


def test_concurrent_creates_agree_on_one_key(data_key_store: DataKeyStore) -> None:
    barrier = threading.Barrier(8)
    results: list[StoredDataKey] = []

    def create(index: int) -> None:
        barrier.wait()
        results.append(data_key_store.create("alice", WrappedKey("m1", bytes([index]))))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert data_key_store.get("alice") == results[0]


def test_replace_wrapping_and_destroy(data_key_store: DataKeyStore) -> None:
    data_key_store.create("alice", FIRST)
    rewrapped = WrappedKey(master_key_id="m2", ciphertext=b"rewrapped")
    data_key_store.replace_wrapping("alice", rewrapped)
    assert data_key_store.get("alice") == StoredDataKey("alice", rewrapped)
    data_key_store.destroy("alice")
    data_key_store.destroy("alice")  # idempotent
    assert data_key_store.get("alice") is None
    assert list(data_key_store.list_all()) == []


def test_replace_wrapping_never_revives_a_destroyed_key(data_key_store: DataKeyStore) -> None:
    # A rotation racing a user's deletion must not undo the crypto-shredding.
    data_key_store.create("alice", FIRST)
    data_key_store.destroy("alice")
    data_key_store.replace_wrapping("alice", SECOND)
    assert data_key_store.get("alice") is None
