"""The `BlobStore` boundary: opaque keys to bytes, streamed both ways.

Implementations: `FsBlobStore` (default, under the data directory), `S3BlobStore` (boto3) and
`MemoryBlobStore` (an in-memory implementation for tests). Callers never see paths or buckets;
the encryption layer above (`storage.vault`) is the only user of raw blobs.

    BlobError
    └── BlobNotFoundError   the key does not exist
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


class BlobError(Exception):
    """A blob operation failed for a reason other than a missing key."""


class BlobNotFoundError(BlobError, KeyError):
    """No blob is stored under the key."""


@dataclass(frozen=True)
class BlobInfo:
    """A stored key and when its blob was last written (timezone-aware, UTC)."""

    key: str
    modified: datetime


@runtime_checkable
class BlobStore(Protocol):
    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the concatenated chunks under key, atomically (readers never see a partial blob).

        Replaces an existing blob. Returns the number of bytes written.
        """
        ...

    def get(self, key: str) -> Iterator[bytes]:
        """Stream the blob's bytes in chunks. Raises `BlobNotFoundError` before the first chunk."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with prefix, in no particular order."""
        ...

    def list_modified(self, prefix: str = "") -> Iterator[BlobInfo]:
        """`list`, with each blob's last-modified time, streamed (never the whole store at once).

        No particular order is promised, but every store yields the keys under one folder
        together (a walk folder by folder, or key order), which lets a caller work folder by
        folder. A blob deleted while the listing runs may or may not appear.
        """
        ...

    def discard_unfinished(self, prefix: str, *, started_before: datetime) -> int:
        """Remove what puts under prefix that never finished left behind (a process killed
        mid-write: a half-written file, an open multipart upload), if begun before
        `started_before`. Such leftovers have no key; returns how many were removed."""
        ...


def read_all(store: BlobStore, key: str) -> bytes:
    return b"".join(store.get(key))
