"""What only the filesystem store promises: modes, no escape from the root, tidy folders."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from headshot.storage.blobs import BlobError, BlobNotFoundError, read_all
from headshot.storage.blobs_fs import FsBlobStore


@pytest.fixture
def open_umask() -> Iterator[None]:
    # The modes must not depend on the umask, so run with the most permissive one.
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folders_are_0700_and_files_0600(tmp_path: Path, open_umask: None) -> None:
    store = FsBlobStore(tmp_path / "data" / "blobs")
    store.put("u/alice/photos/1", [b"x"])
    folders = [tmp_path / "data", *(tmp_path / "data" / "blobs" / "u" / "alice" / "photos").parents]
    for folder in folders[: folders.index(tmp_path)]:
        assert _mode(folder) == 0o700, folder
    assert _mode(tmp_path / "data/blobs/u/alice/photos/1") == 0o600


def test_nothing_is_written_outside_the_root(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    for key in ("../escape", "a/../../escape", "/tmp/escape", "a\\..\\escape"):
        with pytest.raises(BlobError):
            store.put(key, [b"x"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_failed_put_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path)

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        store.put("a/b", failing())
    assert [p.name for p in (tmp_path / "a").iterdir()] == []


def test_a_key_cannot_also_be_a_folder(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path)
    store.put("a/b", [b"x"])
    with pytest.raises(BlobError):
        store.put("a", [b"y"])
    with pytest.raises(BlobError):
        store.put("a/b/c", [b"y"])
    with pytest.raises(BlobNotFoundError):
        store.get("a")
    with pytest.raises(BlobNotFoundError):
        store.get("a/b/c")
    assert not store.exists("a")
    store.delete("a")
    store.delete("a/b/c")
    assert read_all(store, "a/b") == b"x"


def test_delete_removes_emptied_folders_only(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = FsBlobStore(root)
    store.put("u/alice/photos/1", [b"x"])
    store.put("u/bob/photos/1", [b"x"])
    store.delete("u/alice/photos/1")
    assert not (root / "u" / "alice").exists()
    assert (root / "u" / "bob" / "photos" / "1").is_file()
    store.delete("u/bob/photos/1")
    assert root.is_dir() and list(root.iterdir()) == []


def test_concurrent_puts_and_deletes_in_one_folder(tmp_path: Path) -> None:
    # A delete may remove a folder a concurrent put just made; the put must recover.
    store = FsBlobStore(tmp_path)
    failures: list[BaseException] = []

    def churn(name: str) -> None:
        try:
            for _ in range(200):
                store.put(f"d/e/{name}", [b"x"])
                store.delete(f"d/e/{name}")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert list(store.list()) == []


def test_listing_a_missing_root_is_empty(tmp_path: Path) -> None:
    assert list(FsBlobStore(tmp_path / "absent").list()) == []


def test_list_modified_skips_a_file_deleted_mid_listing(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    store.put("u/alice/a", [b"x"])
    store.put("u/alice/b", [b"y"])
    listing = store.list_modified("u/")
    first = next(listing)  # the folder is read; the other file goes before it is dated
    store.delete("u/alice/b" if first.key == "u/alice/a" else "u/alice/a")
    assert list(listing) == []


def test_list_modified_dates_a_blob_by_its_file(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    store.put("u/alice/a", [b"x"])
    os.utime(tmp_path / "blobs/u/alice/a", (1_700_000_000, 1_700_000_000))
    incoming = tmp_path / "blobs/u/alice/~incoming-abc"
    incoming.write_bytes(b"half")  # a put in progress is no blob yet
    [info] = store.list_modified()
    assert info.key == "u/alice/a" and info.modified.timestamp() == 1_700_000_000


def test_partial_files_of_killed_puts_are_discarded_once_old(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    store.put("u/alice/photos/1", [b"kept"])
    hour_ago = 1_700_000_000
    stale = [tmp_path / "blobs/u/bob/photos/2/~incoming-a", tmp_path / "blobs/u/~incoming-b"]
    fresh = tmp_path / "blobs/u/alice/~incoming-c"
    elsewhere = tmp_path / "blobs/other/~incoming-d"
    for path in [*stale, fresh, elsewhere]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a blob")
    for path in [*stale, elsewhere]:
        os.utime(path, (hour_ago, hour_ago))
    cutoff = datetime.fromtimestamp(hour_ago + 60, UTC)

    assert store.discard_unfinished("u/", started_before=cutoff) == 2

    assert not any(path.exists() for path in stale)
    assert not (tmp_path / "blobs/u/bob").exists()  # emptied folders go too
    assert fresh.exists() and elsewhere.exists()
    assert list(store.list()) == ["u/alice/photos/1"]
    assert store.discard_unfinished("", started_before=cutoff) == 1  # the whole store
    assert not elsewhere.exists()
