"""Encrypted, per-user blob access as the services see it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class UserBlobs(Protocol):
    """Per-user encrypted blobs (implemented by `storage.vault.Vault`)."""

    def put(self, user_id: str, key: str, chunks: Iterable[bytes] | bytes) -> int: ...

    def open(self, user_id: str, key: str) -> Iterator[bytes]: ...

    def read(self, user_id: str, key: str) -> bytes: ...

    def delete(self, user_id: str, key: str) -> None: ...


class BlobJanitor:
    """Deletes blobs after their rows are gone; a failure is logged, never raised to the user."""

    def __init__(self, blobs: UserBlobs) -> None:
        self._blobs = blobs

    def delete(self, user_id: str, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                self._blobs.delete(user_id, key)
            except Exception:  # storage hiccup: the orphan sweep removes it later
                log.warning("blob delete failed; left for the orphan sweep", exc_info=True)
