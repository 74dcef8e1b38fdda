"""Master keys from settings or a 0600 key file; the vault's encryption, rotation and shredding."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from headshot.storage.blobs_fs import FsBlobStore
from headshot.storage.blobs_memory import MemoryBlobStore
from headshot.storage.keyring import (
    KeyringError,
    load_master_keyring,
    retire_previous,
    rotate_key_file,
)
from headshot.storage.vault import DataKeyMissingError, MemoryDataKeyStore, Vault

JPEG = b"\xff\xd8\xff\xe0" + os.urandom(5000)


def test_key_file_is_generated_once_with_0600(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "master.key"
    first = load_master_keyring(configured=None, previous=[], key_file=key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_master_keyring(configured=None, previous=[], key_file=key_file) == first


def test_world_readable_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    load_master_keyring(configured=None, previous=[], key_file=key_file)
    key_file.chmod(0o644)
    with pytest.raises(KeyringError) as error:
        load_master_keyring(configured=None, previous=[], key_file=key_file)
    assert str(tmp_path) not in str(error.value)


def test_configured_keys(tmp_path: Path) -> None:
    current, old = os.urandom(32), os.urandom(32)
    ring = load_master_keyring(
        configured=base64.b64encode(current).decode(),
        previous=[base64.b64encode(old).decode()],
        key_file=tmp_path / "unused",
    )
    assert ring.current.material == current and ring.previous[0].material == old
    assert not (tmp_path / "unused").exists()
    with pytest.raises(KeyringError):
        load_master_keyring(configured="not base64!", previous=[], key_file=tmp_path / "x")
    with pytest.raises(KeyringError):
        load_master_keyring(
            configured=base64.b64encode(b"short").decode(), previous=[], key_file=tmp_path / "x"
        )


@pytest.mark.parametrize("store", ["memory", "fs"])
def test_vault_encrypts_rotates_and_shreds(store: str, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    blobs = MemoryBlobStore() if store == "memory" else FsBlobStore(tmp_path / "blobs")
    data_keys = MemoryDataKeyStore()
    vault = Vault(
        blobs=blobs,
        keyring=load_master_keyring(configured=None, previous=[], key_file=key_file),
        data_keys=data_keys,
    )
    vault.put("alice", "photos/1/original", JPEG)
    vault.put("bob", "photos/9/original", [JPEG[:10], JPEG[10:]])
    raw = vault.read_raw("alice", "photos/1/original")
    assert b"\xff\xd8\xff" not in raw and JPEG[100:200] not in raw
    assert vault.read("alice", "photos/1/original") == JPEG
    assert sorted(vault.keys("alice")) == ["photos/1/original"]

    before = {k: b"".join(blobs.get(k)) for k in blobs.list()}
    ring = rotate_key_file(key_file)
    assert Vault.rewrap_data_keys(data_keys=data_keys, keyring=ring) == 2
    retire_previous(key_file)
    rotated = Vault(
        blobs=blobs,
        keyring=load_master_keyring(configured=None, previous=[], key_file=key_file),
        data_keys=data_keys,
    )
    assert rotated.read("alice", "photos/1/original") == JPEG
    assert rotated.read("bob", "photos/9/original") == JPEG
    assert {k: b"".join(blobs.get(k)) for k in blobs.list()} == before, "blobs must not change"

    rotated.destroy_user_key("alice")
    with pytest.raises(DataKeyMissingError):
        rotated.read("alice", "photos/1/original")
    assert rotated.read("bob", "photos/9/original") == JPEG


def test_ciphertext_cannot_move_between_users(tmp_path: Path) -> None:
    blobs = MemoryBlobStore()
    vault = Vault(
        blobs=blobs,
        keyring=load_master_keyring(configured=None, previous=[], key_file=tmp_path / "k"),
        data_keys=MemoryDataKeyStore(),
    )
    vault.put("alice", "x", b"alice's secret")
    vault.put("bob", "x", b"bob's")
    blobs.put("u/bob/x", blobs.get("u/alice/x"))
    from headshot.storage.crypto import DecryptionError

    with pytest.raises(DecryptionError):
        vault.read("bob", "x")
