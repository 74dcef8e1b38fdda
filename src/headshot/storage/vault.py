"""`Vault`: every user blob encrypted under that user's data key (envelope encryption).

A user's blobs live under the blob key `u/<user_id>/<key>`; the AAD binds owner and key, so a
ciphertext moved to another user or key fails to decrypt. A data key is made on the user's
first `put` and stored wrapped by the current master key (`DataKeyStore`). Rotating the master
key re-wraps data keys only; blobs are never rewritten. Destroying a user's data key
(crypto-shredding) leaves all their ciphertext, backups included, unreadable.

Errors: `BlobError` / `BlobNotFoundError` from the blob store, and from `storage.crypto`::

    CryptoError
    ├── DecryptionError          the blob was tampered with, truncated or moved
    ├── UnknownMasterKeyError    the data key is wrapped by a master key not configured
    └── DataKeyMissingError      the user's data key was destroyed: their blobs are unreadable
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from headshot.storage.blobs import BlobError, BlobStore, read_all
from headshot.storage.blobs_keys import check_key
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


class DataKeyMissingError(CryptoError):
    """The user's data key was destroyed (or never existed): their blobs are unreadable."""


@dataclass(frozen=True)
class StoredDataKey:
    user_id: str
    wrapped: WrappedKey


class DataKeyStore(Protocol):
    """Each user's wrapped data key: at most one per user, for the user's whole life."""

    def get(self, user_id: str) -> StoredDataKey | None: ...

    def create(self, user_id: str, wrapped: WrappedKey) -> StoredDataKey:
        """Store wrapped unless the user has a key; either way return the stored one.

        Race-safe: when two callers create at once, one wins and both get the winner's key.
        """
        ...

    def list_all(self) -> Iterator[StoredDataKey]: ...

    def replace_wrapping(self, user_id: str, wrapped: WrappedKey) -> None:
        """Swap the wrapping of an existing key; never re-creates a destroyed one."""
        ...

    def destroy(self, user_id: str) -> None:
        """Forget the key for good (idempotent)."""
        ...


class MemoryDataKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, StoredDataKey] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> StoredDataKey | None:
        with self._lock:
            return self._keys.get(user_id)

    def create(self, user_id: str, wrapped: WrappedKey) -> StoredDataKey:
        with self._lock:
            return self._keys.setdefault(user_id, StoredDataKey(user_id, wrapped))

    def list_all(self) -> Iterator[StoredDataKey]:
        with self._lock:
            return iter(list(self._keys.values()))

    def replace_wrapping(self, user_id: str, wrapped: WrappedKey) -> None:
        with self._lock:
            if user_id in self._keys:
                self._keys[user_id] = StoredDataKey(user_id, wrapped)

    def destroy(self, user_id: str) -> None:
        with self._lock:
            self._keys.pop(user_id, None)


class Vault:
    def __init__(
        self,
        *,
        blobs: BlobStore,
        keyring: MasterKeyring,
        data_keys: DataKeyStore,
        cache_size: int = 256,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Unwrapped data keys are cached (LRU) for `cache_seconds`: a key destroyed by another
        process stays usable here for at most that long; one destroyed here, not at all."""
        self._blobs = blobs
        self._keyring = keyring
        self._data_keys = data_keys
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._shreds = 0  # bumped by every destroy, so a key fetched before one is not cached
        self._lock = threading.Lock()

    def put(self, user_id: str, key: str, chunks: Iterable[bytes] | bytes) -> int:
        """Encrypt and store (replacing any blob at key); returns the plaintext size."""
        name = _blob_key(user_id, key)
        data_key = self._data_key(user_id, create=True)
        counted = _Counted([chunks] if isinstance(chunks, bytes) else chunks)
        sealed = encrypt_stream(data_key, counted, associated_data=_aad(user_id, key))
        self._blobs.put(name, sealed)
        return counted.total

    def open(self, user_id: str, key: str) -> Generator[bytes, None, None]:
        """The plaintext, streamed. Raises `BlobNotFoundError` or `DataKeyMissingError` before
        the first chunk, and `DecryptionError` while streaming if the blob is not authentic.
        Closing the generator early releases the underlying file or connection."""
        sealed = self._blobs.get(_blob_key(user_id, key))
        try:
            data_key = self._data_key(user_id, create=False)
        except BaseException:
            _close(sealed)
            raise
        return _decrypting(data_key, sealed, associated_data=_aad(user_id, key))

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
        """The user's keys (as given to `put`), in no particular order."""
        prefix = f"{_user_folder(user_id)}/"
        return (k[len(prefix) :] for k in self._blobs.list(prefix))

    def destroy_user_key(self, user_id: str) -> None:
        """Crypto-shred: the user's blobs become unreadable, wherever copies of them live."""
        self._data_keys.destroy(user_id)
        with self._lock:
            self._shreds += 1
            self._cache.pop(user_id, None)

    def rewrap_all(self, new_ring: MasterKeyring) -> int:
        """Use new_ring from now on and re-wrap every data key under its current master key
        (blobs untouched); returns how many were re-wrapped. new_ring must still hold the
        master keys the data keys are wrapped with now."""
        with self._lock:
            self._keyring = new_ring
        return self.rewrap_data_keys(data_keys=self._data_keys, keyring=new_ring)

    @staticmethod
    def rewrap_data_keys(*, data_keys: DataKeyStore, keyring: MasterKeyring) -> int:
        """`rewrap_all` without a vault (for the rotation command): skips keys already current."""
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

    @staticmethod
    def master_keys_in_use(data_keys: DataKeyStore) -> frozenset[str]:
        """The master key ids that wrap data keys now (see `keyring.retire_previous`)."""
        return frozenset(stored.wrapped.master_key_id for stored in data_keys.list_all())

    def _data_key(self, user_id: str, *, create: bool) -> bytes:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
            if cached and now - cached[0] < self._cache_seconds:
                self._cache.move_to_end(user_id)
                return cached[1]
            shreds, ring = self._shreds, self._keyring
        stored = self._data_keys.get(user_id)
        if stored is None:
            if not create:
                raise DataKeyMissingError(
                    "this user's data key is gone: their files are unreadable"
                )
            wrapped = wrap_data_key(ring, new_data_key(), context=_context(user_id))
            stored = self._data_keys.create(user_id, wrapped)
        plain = unwrap_data_key(ring, stored.wrapped, context=_context(user_id))
        with self._lock:
            if shreds == self._shreds and self._cache_size > 0:
                self._cache[user_id] = (now, plain)
                self._cache.move_to_end(user_id)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return plain


class _Counted(Iterator[bytes]):
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.total = 0

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self.total += len(chunk)
        return chunk


def _decrypting(
    data_key: bytes, sealed: Iterator[bytes], *, associated_data: bytes
) -> Generator[bytes, None, None]:
    try:
        yield from decrypt_stream(data_key, sealed, associated_data=associated_data)
    finally:
        _close(sealed)  # release the file or connection even when the reader stops early


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if callable(close):
        close()


def _user_folder(user_id: str) -> str:
    # One segment only: "a/b" would otherwise share the namespace of user "a".
    if "/" in user_id:
        raise BlobError("invalid user id")
    return f"u/{check_key(user_id)}"


def _blob_key(user_id: str, key: str) -> str:
    return check_key(f"{_user_folder(user_id)}/{key}")


def _context(user_id: str) -> bytes:
    return b"headshot data key\x00" + user_id.encode()


def _aad(user_id: str, key: str) -> bytes:
    # Unambiguous: valid user ids and keys never contain NUL.
    return f"headshot blob\x00{user_id}\x00{key}".encode()
