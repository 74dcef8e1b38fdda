"""Envelope encryption with AES-256-GCM (pure: no I/O).

A master key (its id derived from its material) wraps each user's data key; the data key
encrypts that user's blobs as a stream of 64 KiB segments, so large files (LoRA weights,
exports) never need to fit in memory.

Wrapped data key: nonce (12 random bytes) | AES-GCM(master key, data key, AAD = context).

Blob format, version 1::

    "HSE1" | version (1 byte) | nonce prefix (7 random bytes) | segment 0 | segment 1 | ...

Every segment seals 64 KiB of plaintext except the last, which seals 0..64 KiB (an empty blob is
one empty segment), with nonce = prefix | counter (4 bytes, big-endian) | last flag (1 byte) and
the caller's associated data (e.g. owner and key) as AAD. Reordering, truncation (even at a
segment boundary), appending, and moving a blob to another key or owner all fail authentication.
With per-user data keys, two blobs share a random prefix with probability under 2^-25 until a
user has 65,536 blobs.

Segments are yielded as soon as each one verifies, so a reader that meets `DecryptionError`
mid-stream has seen authentic but incomplete data and must discard it.

    CryptoError                  bad key sizes, blobs too large for one nonce prefix
    ├── DecryptionError          tampered, truncated, wrong key or wrong associated data
    └── UnknownMasterKeyError    a wrapped key names a master key the keyring does not hold
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HSE1"
VERSION = 1
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + 1 + PREFIX_BYTES
SEGMENT_BYTES = 64 * 1024
TAG_BYTES = 16
KEY_BYTES = 32
NONCE_BYTES = 12
MAX_SEGMENTS = 2**32
_KEY_ID_LABEL = b"headshot master key id\x00"


class CryptoError(Exception):
    """Encryption or decryption failed."""


class DecryptionError(CryptoError):
    """The ciphertext is not authentic for this key and associated data."""


class UnknownMasterKeyError(CryptoError):
    """The keyring has no master key with that id."""


def derive_key_id(material: bytes) -> str:
    """16 hex characters naming a master key without revealing it."""
    return hashlib.sha256(_KEY_ID_LABEL + material).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKey:
    """A 32-byte master key. Build it with `MasterKey.of(material)`: ids are derived."""

    key_id: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise CryptoError("a master key must be 32 bytes")
        if self.key_id != derive_key_id(self.material):
            raise CryptoError("the master key id does not match its material")

    @classmethod
    def of(cls, material: bytes) -> MasterKey:
        return cls(key_id=derive_key_id(material), material=material)


@dataclass(frozen=True)
class MasterKeyring:
    """New data keys are wrapped with `current`; `previous` keys only unwrap."""

    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    def get(self, key_id: str) -> MasterKey:
        for key in (self.current, *self.previous):
            if key.key_id == key_id:
                return key
        raise UnknownMasterKeyError(f"master key {key_id} is not in the keyring")


@dataclass(frozen=True)
class WrappedKey:
    master_key_id: str
    ciphertext: bytes


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(ring: MasterKeyring, data_key: bytes, *, context: bytes) -> WrappedKey:
    """Seal data_key under the ring's current master key, bound to context (e.g. the user id)."""
    _check_key(data_key)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.current.material).encrypt(nonce, data_key, context)
    return WrappedKey(master_key_id=ring.current.key_id, ciphertext=nonce + sealed)


def unwrap_data_key(ring: MasterKeyring, wrapped: WrappedKey, *, context: bytes) -> bytes:
    master = ring.get(wrapped.master_key_id)
    if len(wrapped.ciphertext) != NONCE_BYTES + KEY_BYTES + TAG_BYTES:
        raise DecryptionError("the wrapped data key is damaged")
    nonce, sealed = wrapped.ciphertext[:NONCE_BYTES], wrapped.ciphertext[NONCE_BYTES:]
    try:
        return AESGCM(master.material).decrypt(nonce, sealed, context)
    except InvalidTag:
        raise DecryptionError("the data key could not be unwrapped") from None


def encrypt_stream(
    data_key: bytes, chunks: Iterable[bytes], *, associated_data: bytes
) -> Iterator[bytes]:
    """The blob format above, produced lazily from chunks of any size (one segment in memory)."""
    aead = AESGCM(_check_key(data_key))
    return _encrypting(aead, chunks, associated_data)


def decrypt_stream(
    data_key: bytes, chunks: Iterable[bytes], *, associated_data: bytes
) -> Iterator[bytes]:
    """Plaintext of a blob, segment by segment; raises `DecryptionError` on any tampering,
    including truncation, which shows only at the end."""
    aead = AESGCM(_check_key(data_key))
    return _decrypting(aead, iter(chunks), associated_data)


def encrypt_bytes(data_key: bytes, data: bytes, *, associated_data: bytes) -> bytes:
    return b"".join(encrypt_stream(data_key, [data], associated_data=associated_data))


def decrypt_bytes(data_key: bytes, data: bytes, *, associated_data: bytes) -> bytes:
    return b"".join(decrypt_stream(data_key, [data], associated_data=associated_data))


def sealed_size(plaintext_bytes: int) -> int:
    """The size of the encrypted blob for a plaintext of this size."""
    segments = max(1, -(-plaintext_bytes // SEGMENT_BYTES))
    return HEADER_BYTES + plaintext_bytes + segments * TAG_BYTES


def _encrypting(aead: AESGCM, chunks: Iterable[bytes], associated_data: bytes) -> Iterator[bytes]:
    prefix = os.urandom(PREFIX_BYTES)
    yield MAGIC + bytes([VERSION]) + prefix
    for counter, (block, last) in enumerate(_blocks(chunks, SEGMENT_BYTES)):
        yield aead.encrypt(_nonce(prefix, counter, last), block, associated_data)


def _decrypting(aead: AESGCM, chunks: Iterator[bytes], associated_data: bytes) -> Iterator[bytes]:
    header, rest = _split_header(chunks)
    if header[: len(MAGIC)] != MAGIC or header[len(MAGIC)] != VERSION:
        raise DecryptionError("not an encrypted blob of a known version")
    prefix = header[len(MAGIC) + 1 :]
    for counter, (block, last) in enumerate(_blocks(rest, SEGMENT_BYTES + TAG_BYTES)):
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), block, associated_data)
        except InvalidTag:
            raise DecryptionError("the blob is damaged or not readable with this key") from None


def _check_key(key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise CryptoError("a data key must be 32 bytes")
    return key


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= MAX_SEGMENTS:
        raise CryptoError("the blob is too large for one nonce prefix")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _blocks(chunks: Iterable[bytes | memoryview], size: int) -> Iterator[tuple[bytes, bool]]:
    """Blocks of `size` bytes, the final one (0..size bytes, always present) flagged last.

    A full block is yielded only once more data follows it, so it is known not to be last.
    Memory stays at one block whatever the chunk sizes.
    """
    buffer = bytearray()
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            if len(buffer) == size:
                yield bytes(buffer), False
                buffer.clear()
            take = size - len(buffer)
            buffer += view[:take]
            view = view[take:]
    yield bytes(buffer), True


def _split_header(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes | memoryview]]:
    head = b""
    tail = memoryview(b"")
    for chunk in chunks:
        need = HEADER_BYTES - len(head)
        head, tail = head + chunk[:need], memoryview(chunk)[need:]  # no copy of a large chunk
        if len(head) == HEADER_BYTES:
            break
    if len(head) < HEADER_BYTES:
        raise DecryptionError("the blob is truncated")

    def rest() -> Iterator[bytes | memoryview]:
        if tail:
            yield tail
        yield from chunks

    return head, rest()
