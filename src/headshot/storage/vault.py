"""`Vault`: every user blob encrypted under that user's data key (envelope encryption).

Blob keys are namespaced `u/<user_id>/<key>` and the AAD binds owner and key, so a ciphertext
cannot be moved to another user or key. Destroying a user's data key (crypto-shredding) leaves
any remaining ciphertext, e.g. in a backup, unreadable.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from headshot.storage.blobs import BlobStore, read_all
from headshot.storage.crypto import (
    CryptoError,
    MasterKeyring,
    WrappedKey,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)

CACHE_SECONDS = 60.0
CACHE_SIZE = 256


class DataKeyMissingError(CryptoError):
    """The user's data key was destroyed (or never existed): their blobs are unreadable."""


@dataclass(frozen=True)
class StoredDataKey:
    user_id: str
    wrapped: WrappedKey


class DataKeyStore(Protocol):
    def get(self, user_id: str) -> StoredDataKey | None: ...

    def create(self, user_id: str, wrapped: WrappedKey) -> StoredDataKey:
        """Store the key unless one exists; either way return the stored one (race-safe)."""
        ...

    def list_all(self) -> Iterator[StoredDataKey]: ...

    def replace_wrapping(self, user_id: str, wrapped: WrappedKey) -> None: ...

    def destroy(self, user_id: str) -> None: ...


class MemoryDataKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, StoredDataKey] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> StoredDataKey | None:
        return self._keys.get(user_id)

    def create(self, user_id: str, wrapped: WrappedKey) -> StoredDataKey:
        with self._lock:
            return self._keys.setdefault(user_id, StoredDataKey(user_id, wrapped))

    def list_all(self) -> Iterator[StoredDataKey]:
        return iter(list(self._keys.values()))

    def replace_wrapping(self, user_id: str, wrapped: WrappedKey) -> None:
        with self._lock:
            self._keys[user_id] = StoredDataKey(user_id, wrapped)

    def destroy(self, user_id: str) -> None:
        with self._lock:
            self._keys.pop(user_id, None)


def _context(user_id: str) -> bytes:
    return b"headshot data key\x00" + user_id.encode()


class Vault:
    def __init__(
        self, *, blobs: BlobStore, keyring: MasterKeyring, data_keys: DataKeyStore
    ) -> None:
        self._blobs = blobs
        self._keyring = keyring
        self._data_keys = data_keys
        # Unwrapped keys are cached briefly; a destroyed key stays usable elsewhere for at most
        # CACHE_SECONDS, and never in this process.
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, user_id: str, key: str, chunks: Iterable[bytes] | bytes) -> int:
        data_key = self._data_key(user_id, create=True)
        source = [chunks] if isinstance(chunks, bytes) else chunks
        sealed = encrypt_stream(data_key, source, associated_data=_aad(user_id, key))
        return self._blobs.put(_blob_key(user_id, key), sealed)

    def open(self, user_id: str, key: str) -> Iterator[bytes]:
        data_key = self._data_key(user_id, create=False)
        sealed = self._blobs.get(_blob_key(user_id, key))
        return decrypt_stream(data_key, sealed, associated_data=_aad(user_id, key))

    def read(self, user_id: str, key: str) -> bytes:
        return b"".join(self.open(user_id, key))

    def read_raw(self, user_id: str, key: str) -> bytes:
        """The stored ciphertext (for tests and audits)."""
        return read_all(self._blobs, _blob_key(user_id, key))

    def delete(self, user_id: str, key: str) -> None:
        self._blobs.delete(_blob_key(user_id, key))

    def exists(self, user_id: str, key: str) -> bool:
        return self._blobs.exists(_blob_key(user_id, key))

    def keys(self, user_id: str) -> Iterator[str]:
        prefix = _blob_key(user_id, "")
        return (k[len(prefix) :] for k in self._blobs.list(prefix))

    def destroy_user_key(self, user_id: str) -> None:
        self._data_keys.destroy(user_id)
        with self._lock:
            self._cache.pop(user_id, None)

    @staticmethod
    def rewrap_data_keys(*, data_keys: DataKeyStore, keyring: MasterKeyring) -> int:
        """Re-wrap every data key under the keyring's current master key; blobs are untouched."""
        count = 0
        for stored in data_keys.list_all():
            if stored.wrapped.master_key_id == keyring.current.key_id:
                continue
            context = _context(stored.user_id)
            plain = unwrap_data_key(keyring, stored.wrapped, context=context)
            data_keys.replace_wrapping(
                stored.user_id, wrap_data_key(keyring, plain, context=context)
            )
            count += 1
        return count

    def _data_key(self, user_id: str, *, create: bool) -> bytes:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(user_id)
            if cached and now - cached[0] < CACHE_SECONDS:
                return cached[1]
        stored = self._data_keys.get(user_id)
        if stored is None:
            if not create:
                raise DataKeyMissingError("no data key: this user's files are unreadable")
            wrapped = wrap_data_key(self._keyring, new_data_key(), context=_context(user_id))
            stored = self._data_keys.create(user_id, wrapped)
        plain = unwrap_data_key(self._keyring, stored.wrapped, context=_context(user_id))
        with self._lock:
            self._cache[user_id] = (now, plain)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return plain


def _blob_key(user_id: str, key: str) -> str:
    return f"u/{user_id}/{key}"


def _aad(user_id: str, key: str) -> bytes:
    return f"headshot blob\x00{user_id}\x00{key}".encode()
