"""`MemoryBlobStore`: the in-memory `BlobStore`, for tests and as the fake the others must match."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from headshot.storage.blobs import BlobInfo, BlobNotFoundError
from headshot.storage.blobs_keys import check_key

CHUNK = 64 * 1024


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MemoryBlobStore:
    def __init__(self, *, clock: Callable[[], datetime] = _utc_now) -> None:
        """`clock` stamps each put, as a file's mtime or an object's LastModified would."""
        self._blobs: dict[str, tuple[bytes, datetime]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        check_key(key)
        data = b"".join(chunks)  # joined before storing, so a failing source leaves the old blob
        with self._lock:
            self._blobs[key] = (data, self._clock())
        return len(data)

    def get(self, key: str) -> Iterator[bytes]:
        with self._lock:
            stored = self._blobs.get(check_key(key))
        if stored is None:
            raise BlobNotFoundError(key)
        return _slices(stored[0])

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(check_key(key), None)

    def exists(self, key: str) -> bool:
        with self._lock:
            return check_key(key) in self._blobs

    def list(self, prefix: str = "") -> Iterator[str]:
        return (info.key for info in self.list_modified(prefix))

    def list_modified(self, prefix: str = "") -> Iterator[BlobInfo]:
        # A snapshot in key order: the keys of one folder come together, as in the other stores.
        with self._lock:
            found = [(k, at) for k, (_, at) in self._blobs.items() if k.startswith(prefix)]
        return (BlobInfo(key, modified) for key, modified in sorted(found))

    def discard_unfinished(self, prefix: str, *, started_before: datetime) -> int:  # noqa: ARG002 (the protocol's)
        return 0  # a put stores its joined bytes at once: nothing is ever half-written


def _slices(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
