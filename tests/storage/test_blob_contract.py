"""One contract for every `BlobStore`: memory, filesystem and S3 (moto on loopback)."""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from headshot.storage.blobs import BlobError, BlobNotFoundError, BlobStore, read_all

CHUNK = 64 * 1024
MiB = 1024 * 1024


def test_round_trip_replace_delete(blob_store: BlobStore) -> None:
    assert blob_store.put("a/b/one", [b"hello ", b"world"]) == 11
    assert read_all(blob_store, "a/b/one") == b"hello world"
    assert blob_store.exists("a/b/one")
    assert blob_store.put("a/b/one", iter([b"replaced"])) == 8
    assert read_all(blob_store, "a/b/one") == b"replaced"
    blob_store.delete("a/b/one")
    assert not blob_store.exists("a/b/one")
    blob_store.delete("a/b/one")  # idempotent
    blob_store.delete("never/stored")


def test_empty_blob(blob_store: BlobStore) -> None:
    assert blob_store.put("empty", []) == 0
    assert blob_store.exists("empty")
    assert read_all(blob_store, "empty") == b""


def test_missing_key_raises_before_streaming(blob_store: BlobStore) -> None:
    assert not blob_store.exists("nope/nothing")
    with pytest.raises(BlobNotFoundError):
        blob_store.get("nope/nothing")  # at the call, not at the first chunk
    blob_store.put("nope/other", [b"x"])
    with pytest.raises(BlobNotFoundError):
        blob_store.get("nope")


def test_list_by_prefix(blob_store: BlobStore) -> None:
    for key in ("u/1/a", "u/1/b/c", "u/10/a", "u/2/a"):
        blob_store.put(key, [b"x"])
    assert sorted(blob_store.list("u/1/")) == ["u/1/a", "u/1/b/c"]
    assert sorted(blob_store.list("u/1")) == ["u/1/a", "u/1/b/c", "u/10/a"]  # a string prefix
    assert sorted(blob_store.list()) == ["u/1/a", "u/1/b/c", "u/10/a", "u/2/a"]
    assert list(blob_store.list("u/3/")) == []
    assert list(blob_store.list("../")) == []
    blob_store.delete("u/1/b/c")
    assert sorted(blob_store.list("u/1/")) == ["u/1/a"]


def test_list_modified_dates_every_listed_key(blob_store: BlobStore) -> None:
    # S3 keeps whole seconds, and a file's mtime may lag the clock by a tick: allow a little.
    before = datetime.now(UTC) - timedelta(seconds=2)
    for key in ("u/1/a", "u/1/b/c", "u/10/a", "other/x"):
        blob_store.put(key, [b"x"])
    after = datetime.now(UTC) + timedelta(seconds=2)

    listed = list(blob_store.list_modified("u/1/"))

    assert sorted(info.key for info in listed) == sorted(blob_store.list("u/1/"))
    for info in listed:
        assert info.modified.utcoffset() == timedelta(0)
        assert before <= info.modified <= after
    assert sorted(i.key for i in blob_store.list_modified()) == sorted(blob_store.list())
    assert list(blob_store.list_modified("u/3/")) == []
    assert list(blob_store.list_modified("../")) == []


def test_list_modified_keeps_each_folder_together(blob_store: BlobStore) -> None:
    for key in ("u/a/1", "u/b/1", "u/a/x/2", "u/b/y/2", "u/a/3", "u/ab/1", "u/a-b/1"):
        blob_store.put(key, [b"x"])

    owners = [info.key.split("/")[1] for info in blob_store.list_modified("u/")]

    runs = [owner for index, owner in enumerate(owners) if index == 0 or owners[index - 1] != owner]
    assert sorted(runs) == ["a", "a-b", "ab", "b"]  # one run per folder


def test_finished_puts_leave_nothing_unfinished(blob_store: BlobStore) -> None:
    blob_store.put("u/1/a", [b"x"])
    blob_store.put("u/1/big", (b"y" * MiB for _ in range(9)))  # multipart on S3
    later = datetime.now(UTC) + timedelta(days=1)
    assert blob_store.discard_unfinished("u/", started_before=later) == 0
    assert sorted(blob_store.list()) == ["u/1/a", "u/1/big"]


@pytest.mark.parametrize(
    "key",
    ["", "/", "../x", "a/../../x", "..", "/abs", "a//b", "a/", "a\\b", "a/\x00", "a/./b", "é"],
)
def test_invalid_keys_are_refused(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(BlobError):
        blob_store.put(key, [b"x"])
    with pytest.raises(BlobError):
        blob_store.get(key)
    with pytest.raises(BlobError):
        blob_store.exists(key)
    with pytest.raises(BlobError):
        blob_store.delete(key)
    assert list(blob_store.list()) == []


def test_large_blob_streams_in_bounded_chunks(blob_store: BlobStore) -> None:
    def source() -> Iterator[bytes]:
        for index in range(20):  # 20 MiB, above the 8 MiB multipart threshold of S3
            yield hashlib.sha256(bytes([index])).digest() * (MiB // 32)

    expected = hashlib.sha256()
    for chunk in source():
        expected.update(chunk)
    assert blob_store.put("big/blob", source()) == 20 * MiB
    received, total = hashlib.sha256(), 0
    for chunk in blob_store.get("big/blob"):
        assert 0 < len(chunk) <= CHUNK
        received.update(chunk)
        total += len(chunk)
    assert total == 20 * MiB
    assert received.digest() == expected.digest()


def test_failed_put_leaves_the_old_blob(blob_store: BlobStore) -> None:
    blob_store.put("k", [b"old"])

    def failing() -> Iterator[bytes]:
        yield b"new" * 1000
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        blob_store.put("k", failing())
    with pytest.raises(RuntimeError):
        blob_store.put("fresh", failing())
    assert read_all(blob_store, "k") == b"old"
    assert not blob_store.exists("fresh")
    assert list(blob_store.list()) == ["k"]


def test_a_stream_keeps_the_blob_it_opened(blob_store: BlobStore) -> None:
    old = b"o" * (3 * CHUNK)
    blob_store.put("k", [old])
    stream = blob_store.get("k")
    first = next(stream)
    blob_store.put("k", [b"n" * (3 * CHUNK)])
    assert first + b"".join(stream) == old
    assert read_all(blob_store, "k") == b"n" * (3 * CHUNK)


def test_readers_never_see_a_partial_replace(blob_store: BlobStore) -> None:
    versions = [bytes([v]) * (2 * CHUNK + 5) for v in b"abc"]
    blob_store.put("k", [versions[0]])
    done = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for round_ in range(15):
                data = versions[round_ % 3]
                blob_store.put("k", (data[i : i + 1000] for i in range(0, len(data), 1000)))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        assert read_all(blob_store, "k") in versions
    thread.join()
    assert not failures


def test_an_unread_stream_can_be_dropped(blob_store: BlobStore) -> None:
    # filterwarnings=error turns an unclosed file or connection into a failure here.
    blob_store.put("k", [b"x" * (2 * CHUNK)])
    stream = blob_store.get("k")
    del stream
    started = blob_store.get("k")
    next(started)
    del started
    gc.collect()
    assert read_all(blob_store, "k") == b"x" * (2 * CHUNK)
