"""Envelope encryption: segments, tamper detection, key wrapping."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator

import pytest

from headshot.storage.crypto import (
    SEGMENT_BYTES,
    DecryptionError,
    MasterKey,
    MasterKeyring,
    UnknownMasterKeyError,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)

AAD = b"user-1\x00photos/1"


@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, 3 * SEGMENT_BYTES, 3 * SEGMENT_BYTES + 7]
)
def test_round_trip(size: int) -> None:
    key, data = new_data_key(), os.urandom(size)
    sealed = encrypt_bytes(key, data, associated_data=AAD)
    assert data == decrypt_bytes(key, sealed, associated_data=AAD)
    assert not data or data[:64] not in sealed


def _sealed(size: int = 3 * SEGMENT_BYTES + 5) -> tuple[bytes, bytes]:
    key = new_data_key()
    return key, encrypt_bytes(key, os.urandom(size), associated_data=AAD)


def test_tampering_is_detected() -> None:
    key, sealed = _sealed()
    flipped = bytearray(sealed)
    flipped[100] ^= 1
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, bytes(flipped), associated_data=AAD)


def test_truncation_at_a_segment_boundary_is_detected() -> None:
    key, sealed = _sealed()
    cut = 12 + 2 * (SEGMENT_BYTES + 16)
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, sealed[:cut], associated_data=AAD)


def test_reordered_segments_are_detected() -> None:
    key, sealed = _sealed()
    seg = SEGMENT_BYTES + 16
    body = sealed[12:]
    swapped = sealed[:12] + body[seg : 2 * seg] + body[:seg] + body[2 * seg :]
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, swapped, associated_data=AAD)


def test_wrong_owner_or_key_is_detected() -> None:
    key, sealed = _sealed(100)
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, sealed, associated_data=b"user-2\x00photos/1")
    with pytest.raises(DecryptionError):
        decrypt_bytes(new_data_key(), sealed, associated_data=AAD)


def test_not_an_encrypted_blob() -> None:
    with pytest.raises(DecryptionError):
        decrypt_bytes(new_data_key(), b"\xff\xd8\xff plain jpeg", associated_data=AAD)


def test_key_wrapping_and_rotation() -> None:
    old = MasterKeyring(MasterKey.of(os.urandom(32)))
    data_key = new_data_key()
    wrapped = wrap_data_key(old, data_key, context=b"u1")
    assert wrapped.master_key_id == old.current.key_id
    assert unwrap_data_key(old, wrapped, context=b"u1") == data_key
    with pytest.raises(DecryptionError):
        unwrap_data_key(old, wrapped, context=b"u2")
    new = MasterKeyring(MasterKey.of(os.urandom(32)), previous=(old.current,))
    assert unwrap_data_key(new, wrapped, context=b"u1") == data_key
    with pytest.raises(UnknownMasterKeyError):
        unwrap_data_key(MasterKeyring(MasterKey.of(os.urandom(32))), wrapped, context=b"u1")
    assert "material" not in repr(old.current) and str(old.current.material) not in repr(old)


def test_streaming_memory_is_bounded() -> None:
    key = new_data_key()
    block = os.urandom(1024 * 1024)

    def source() -> Iterator[bytes]:
        for _ in range(64):
            yield block

    tracemalloc.start()
    try:
        total = 0
        sealed = encrypt_stream(key, source(), associated_data=AAD)
        for chunk in decrypt_stream(key, sealed, associated_data=AAD):
            total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 64 * len(block)
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a 64 MiB stream"
