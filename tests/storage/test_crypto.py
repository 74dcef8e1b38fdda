"""Envelope encryption: the segmented format, tamper detection, key wrapping, bounded memory."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator

import pytest

from headshot.storage.crypto import (
    HEADER_BYTES,
    SEGMENT_BYTES,
    TAG_BYTES,
    CryptoError,
    DecryptionError,
    MasterKey,
    MasterKeyring,
    UnknownMasterKeyError,
    WrappedKey,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    new_data_key,
    sealed_size,
    unwrap_data_key,
    wrap_data_key,
)

AAD = b"user-1\x00photos/1"
SEALED_SEGMENT = SEGMENT_BYTES + TAG_BYTES
MiB = 1024 * 1024


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize(
    ("size", "segments"),
    [
        (0, 1),
        (1, 1),
        (SEGMENT_BYTES - 1, 1),
        (SEGMENT_BYTES, 1),
        (SEGMENT_BYTES + 1, 2),
        (2 * SEGMENT_BYTES, 2),
        (3 * SEGMENT_BYTES + 7, 4),
    ],
)
def test_round_trip_and_layout(size: int, segments: int) -> None:
    key, data = new_data_key(), os.urandom(size)
    sealed = encrypt_bytes(key, data, associated_data=AAD)
    assert len(sealed) == sealed_size(size) == HEADER_BYTES + size + segments * TAG_BYTES
    assert sealed[:4] == b"HSE1"
    assert decrypt_bytes(key, sealed, associated_data=AAD) == data
    # A byte or two of plaintext turns up in random ciphertext by chance; 16 bytes never do.
    assert len(data) < 16 or data[:32] not in sealed


@pytest.mark.parametrize("piece", [1, 7, 1000, SEGMENT_BYTES + 3, 10 * SEGMENT_BYTES])
def test_chunk_boundaries_do_not_matter(piece: int) -> None:
    key, data = new_data_key(), os.urandom(2 * SEGMENT_BYTES + 100)
    sealed = b"".join(encrypt_stream(key, _pieces(data, piece), associated_data=AAD))
    assert len(sealed) == sealed_size(len(data))
    plain = decrypt_stream(key, _pieces(sealed, piece), associated_data=AAD)
    assert b"".join(plain) == data


def test_each_encryption_is_fresh() -> None:
    key = new_data_key()
    assert encrypt_bytes(key, b"same", associated_data=AAD) != encrypt_bytes(
        key, b"same", associated_data=AAD
    )


def _sealed(size: int = 3 * SEGMENT_BYTES + 5) -> tuple[bytes, bytes]:
    key = new_data_key()
    return key, encrypt_bytes(key, os.urandom(size), associated_data=AAD)


@pytest.mark.parametrize(
    "offset",
    [0, 4, 5, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + SEALED_SEGMENT + 9, -1],
    ids=["magic", "version", "prefix", "prefix-end", "first-segment", "second-segment", "tag"],
)
def test_any_flipped_bit_is_detected(offset: int) -> None:
    key, sealed = _sealed()
    flipped = bytearray(sealed)
    flipped[offset] ^= 1
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, bytes(flipped), associated_data=AAD)


@pytest.mark.parametrize(
    "cut",
    [
        0,
        HEADER_BYTES - 1,
        HEADER_BYTES,
        HEADER_BYTES + SEALED_SEGMENT,  # segment boundaries: each segment alone is authentic
        HEADER_BYTES + 2 * SEALED_SEGMENT,
        HEADER_BYTES + 3 * SEALED_SEGMENT,
        HEADER_BYTES + SEALED_SEGMENT + 100,
        -1,
    ],
)
def test_truncation_is_detected(cut: int) -> None:
    key, sealed = _sealed()
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, sealed[:cut], associated_data=AAD)


def test_truncation_shows_after_the_authentic_segments() -> None:
    key, sealed = _sealed()
    stream = decrypt_stream(key, [sealed[: HEADER_BYTES + SEALED_SEGMENT]], associated_data=AAD)
    with pytest.raises(DecryptionError):
        list(stream)


def test_appended_data_is_detected() -> None:
    key, sealed = _sealed()
    _, other = _sealed()
    for extra in (b"\x00", other[HEADER_BYTES:]):
        with pytest.raises(DecryptionError):
            decrypt_bytes(key, sealed + extra, associated_data=AAD)


def test_reordered_segments_are_detected() -> None:
    key, sealed = _sealed()
    body = sealed[HEADER_BYTES:]
    first, second = body[:SEALED_SEGMENT], body[SEALED_SEGMENT : 2 * SEALED_SEGMENT]
    swapped = sealed[:HEADER_BYTES] + second + first + body[2 * SEALED_SEGMENT :]
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, swapped, associated_data=AAD)


def test_segments_cannot_move_between_blobs_of_one_key() -> None:
    key = new_data_key()
    one = encrypt_bytes(key, b"a" * 2 * SEGMENT_BYTES, associated_data=AAD)
    two = encrypt_bytes(key, b"b" * 2 * SEGMENT_BYTES, associated_data=AAD)
    mixed = one[: HEADER_BYTES + SEALED_SEGMENT] + two[HEADER_BYTES + SEALED_SEGMENT :]
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, mixed, associated_data=AAD)


def test_wrong_owner_or_key_is_detected() -> None:
    key, sealed = _sealed(100)
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, sealed, associated_data=b"user-2\x00photos/1")
    with pytest.raises(DecryptionError):
        decrypt_bytes(key, sealed, associated_data=b"user-1\x00photos/2")
    with pytest.raises(DecryptionError):
        decrypt_bytes(new_data_key(), sealed, associated_data=AAD)


def test_not_an_encrypted_blob() -> None:
    with pytest.raises(DecryptionError):
        decrypt_bytes(new_data_key(), b"\xff\xd8\xff\xe0 a plain JPEG", associated_data=AAD)


def test_data_keys_must_be_32_bytes() -> None:
    with pytest.raises(CryptoError):
        encrypt_stream(b"short", [b"x"], associated_data=AAD)  # at the call, not lazily
    with pytest.raises(CryptoError):
        decrypt_stream(b"short", [b"x"], associated_data=AAD)
    ring = MasterKeyring(MasterKey.of(os.urandom(32)))
    with pytest.raises(CryptoError):
        wrap_data_key(ring, b"short", context=b"u1")


def test_master_key_ids_are_derived() -> None:
    material = os.urandom(32)
    key = MasterKey.of(material)
    assert key == MasterKey.of(material) and len(key.key_id) == 16
    assert key.key_id != MasterKey.of(os.urandom(32)).key_id
    with pytest.raises(CryptoError):
        MasterKey(key_id="chosen-by-hand", material=material)
    with pytest.raises(CryptoError):
        MasterKey.of(b"too short")
    assert material.hex() not in repr(key) and repr(material) not in repr(key)
    assert repr(material) not in repr(MasterKeyring(key))


def test_key_wrapping_and_rotation() -> None:
    old = MasterKeyring(MasterKey.of(os.urandom(32)))
    data_key = new_data_key()
    wrapped = wrap_data_key(old, data_key, context=b"u1")
    assert wrapped.master_key_id == old.current.key_id
    assert data_key not in wrapped.ciphertext
    assert unwrap_data_key(old, wrapped, context=b"u1") == data_key
    with pytest.raises(DecryptionError):
        unwrap_data_key(old, wrapped, context=b"u2")
    new = MasterKeyring(MasterKey.of(os.urandom(32)), previous=(old.current,))
    assert unwrap_data_key(new, wrapped, context=b"u1") == data_key
    assert wrap_data_key(new, data_key, context=b"u1").master_key_id == new.current.key_id
    with pytest.raises(UnknownMasterKeyError):
        unwrap_data_key(MasterKeyring(MasterKey.of(os.urandom(32))), wrapped, context=b"u1")


@pytest.mark.parametrize("ciphertext", [b"", b"short", bytes(61)])
def test_damaged_wrapped_keys_are_refused(ciphertext: bytes) -> None:
    ring = MasterKeyring(MasterKey.of(os.urandom(32)))
    with pytest.raises(DecryptionError):
        unwrap_data_key(ring, WrappedKey(ring.current.key_id, ciphertext), context=b"u1")


def test_streaming_memory_is_bounded() -> None:
    key = new_data_key()
    block = os.urandom(MiB)

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
    assert total == 64 * MiB
    assert peak < 4 * MiB, f"peak {peak} bytes for a 64 MiB stream"
