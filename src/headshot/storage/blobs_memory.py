"""`MemoryBlobStore`: the in-memory `BlobStore`, for tests and as the fake the others must match."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from headshot.storage.blobs import BlobNotFoundError
from headshot.storage.blobs_keys import check_key

CHUNK = 64 * 1024


class MemoryBlobStore:
    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        check_key(key)
        data = b"".join(chunks)  # joined before storing, so a failing source leaves the old blob
        with self._lock:
            self._blobs[key] = data
        return len(data)

    def get(self, key: str) -> Iterator[bytes]:
        with self._lock:
            data = self._blobs.get(check_key(key))
        if data is None:
            raise BlobNotFoundError(key)
        return _slices(data)

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(check_key(key), None)

    def exists(self, key: str) -> bool:
        with self._lock:
            return check_key(key) in self._blobs

    def list(self, prefix: str = "") -> Iterator[str]:
        with self._lock:
            keys = [k for k in self._blobs if k.startswith(prefix)]
        return iter(keys)


def _slices(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
