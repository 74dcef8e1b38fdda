"""Envelope encryption with AES-256-GCM (pure: no I/O).

A master key (with a derived id) wraps each user's data key; the data key encrypts blobs as a
stream of 64 KiB segments, so large files never need to fit in memory.

Blob format: `HSE1` | version (1 byte) | nonce prefix (7 bytes) | segments. Each segment is
AES-GCM over at most 64 KiB of plaintext with nonce = prefix | counter (4 bytes) | last flag
(1 byte), and the caller's associated data (e.g. owner and key) as AAD. Reordering, truncation,
appending and swapping blobs between keys or owners all fail authentication.

    CryptoError
    ├── DecryptionError          tampered, truncated, wrong key or wrong associated data
    └── UnknownMasterKeyError    a wrapped key names a master key the keyring does not hold
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


class CryptoError(Exception):
    """Encryption or decryption failed."""


class DecryptionError(CryptoError):
    """The ciphertext is not authentic for this key and associated data."""


class UnknownMasterKeyError(CryptoError):
    """The keyring has no master key with that id."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: bytes = b""

    @classmethod
    def of(cls, material: bytes) -> MasterKey:
        if len(material) != KEY_BYTES:
            raise CryptoError("a master key must be 32 bytes")
        digest = hashlib.sha256(b"headshot master key id\x00" + material).hexdigest()
        return cls(key_id=digest[:16], material=material)

    def __repr__(self) -> str:  # never show key material
        return f"MasterKey(key_id={self.key_id!r})"


@dataclass(frozen=True)
class MasterKeyring:
    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    def get(self, key_id: str) -> MasterKey:
        for key in (self.current, *self.previous):
            if key.key_id == key_id:
                return key
        raise UnknownMasterKeyError(f"master key {key_id} is not configured")


@dataclass(frozen=True)
class WrappedKey:
    master_key_id: str
    ciphertext: bytes


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(ring: MasterKeyring, data_key: bytes, *, context: bytes) -> WrappedKey:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.current.material).encrypt(nonce, data_key, context)
    return WrappedKey(master_key_id=ring.current.key_id, ciphertext=nonce + sealed)


def unwrap_data_key(ring: MasterKeyring, wrapped: WrappedKey, *, context: bytes) -> bytes:
    master = ring.get(wrapped.master_key_id)
    nonce, sealed = wrapped.ciphertext[:NONCE_BYTES], wrapped.ciphertext[NONCE_BYTES:]
    try:
        return AESGCM(master.material).decrypt(nonce, sealed, context)
    except InvalidTag as exc:
        raise DecryptionError("the data key could not be unwrapped") from exc


def encrypt_stream(
    data_key: bytes, chunks: Iterable[bytes], *, associated_data: bytes
) -> Iterator[bytes]:
    prefix = os.urandom(PREFIX_BYTES)
    yield MAGIC + bytes([VERSION]) + prefix
    aead = AESGCM(data_key)
    for counter, (block, last) in enumerate(_blocks(chunks, SEGMENT_BYTES)):
        yield aead.encrypt(_nonce(prefix, counter, last), block, associated_data)


def decrypt_stream(
    data_key: bytes, chunks: Iterable[bytes], *, associated_data: bytes
) -> Iterator[bytes]:
    header, rest = _split_header(iter(chunks))
    if header[: len(MAGIC)] != MAGIC or header[len(MAGIC)] != VERSION:
        raise DecryptionError("not an encrypted blob of a known version")
    prefix = header[len(MAGIC) + 1 :]
    aead = AESGCM(data_key)
    for counter, (block, last) in enumerate(_blocks(rest, SEGMENT_BYTES + TAG_BYTES)):
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), block, associated_data)
        except InvalidTag as exc:
            raise DecryptionError("the blob is damaged or not readable with this key") from exc


def encrypt_bytes(data_key: bytes, data: bytes, *, associated_data: bytes) -> bytes:
    return b"".join(encrypt_stream(data_key, [data], associated_data=associated_data))


def decrypt_bytes(data_key: bytes, data: bytes, *, associated_data: bytes) -> bytes:
    return b"".join(decrypt_stream(data_key, [data], associated_data=associated_data))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= MAX_SEGMENTS:
        raise CryptoError("blob too large for one nonce prefix")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _blocks(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Fixed-size blocks with a flag on the final one (always at least one block, maybe empty).

    A block is cut only once more data follows it, so every cut block is known not to be last.
    """
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) > size:
            yield bytes(buffer[:size]), False
            del buffer[:size]
    yield bytes(buffer), True


def _split_header(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    head = bytearray()
    for chunk in chunks:
        head += chunk
        if len(head) >= HEADER_BYTES:
            break
    if len(head) < HEADER_BYTES:
        raise DecryptionError("the blob is truncated")
    tail = bytes(head[HEADER_BYTES:])

    def rest() -> Iterator[bytes]:
        if tail:
            yield tail
        yield from chunks

    return bytes(head[:HEADER_BYTES]), rest()
