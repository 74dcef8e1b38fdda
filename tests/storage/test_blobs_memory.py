"""What only the memory store promises: each put is dated by its injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime

from headshot.storage.blobs import BlobInfo
from headshot.storage.blobs_memory import MemoryBlobStore
from tests.clock import SettableClock


def test_puts_are_dated_by_the_clock() -> None:
    clock = SettableClock()
    store = MemoryBlobStore(clock=clock)
    store.put("u/a/1", [b"x"])
    clock.advance(minutes=5)
    store.put("u/a/2", [b"y"])

    assert list(store.list_modified()) == [
        BlobInfo("u/a/1", datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),
        BlobInfo("u/a/2", datetime(2026, 11, 1, 12, 5, tzinfo=UTC)),
    ]
    clock.advance(minutes=5)
    store.put("u/a/1", [b"replaced"])  # a replaced blob is as new as its last write
    assert next(store.list_modified("u/a/1")).modified == clock.now
