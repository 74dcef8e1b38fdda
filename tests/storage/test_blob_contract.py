"""One contract for every `BlobStore`: memory, filesystem and S3 (moto on loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from headshot.storage.blobs import BlobError, BlobNotFoundError, BlobStore, read_all


def test_round_trip_replace_delete(blob_store: BlobStore) -> None:
    assert blob_store.put("a/b/one", [b"hello ", b"world"]) == 11
    assert read_all(blob_store, "a/b/one") == b"hello world"
    assert blob_store.exists("a/b/one")
    blob_store.put("a/b/one", [b"replaced"])
    assert read_all(blob_store, "a/b/one") == b"replaced"
    blob_store.delete("a/b/one")
    assert not blob_store.exists("a/b/one")
    blob_store.delete("a/b/one")  # idempotent


def test_empty_blob(blob_store: BlobStore) -> None:
    blob_store.put("empty", [])
    assert read_all(blob_store, "empty") == b""


def test_missing_key_raises_before_streaming(blob_store: BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        blob_store.get("nope/nothing")


def test_list_by_prefix(blob_store: BlobStore) -> None:
    for key in ("u/1/a", "u/1/b", "u/2/a"):
        blob_store.put(key, [b"x"])
    assert sorted(blob_store.list("u/1/")) == ["u/1/a", "u/1/b"]
    assert sorted(blob_store.list()) == ["u/1/a", "u/1/b", "u/2/a"]


@pytest.mark.parametrize(
    "key", ["", "../x", "a/../../x", "/abs", "a//b", "a\\b", "a/\x00", "a/./b"]
)
def test_invalid_keys_are_refused(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(BlobError):
        blob_store.put(key, [b"x"])


def test_large_blob_streams(blob_store: BlobStore) -> None:
    block = os.urandom(1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield block

    assert blob_store.put("big", chunks()) == 20 * len(block)
    total = 0
    for chunk in blob_store.get("big"):
        assert len(chunk) <= 1024 * 1024
        total += len(chunk)
    assert total == 20 * len(block)


def test_failed_put_leaves_the_old_blob(blob_store: BlobStore) -> None:
    blob_store.put("k", [b"old"])

    def failing() -> Iterator[bytes]:
        yield b"new"
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        blob_store.put("k", failing())
    assert read_all(blob_store, "k") == b"old"
