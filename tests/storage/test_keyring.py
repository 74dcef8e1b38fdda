"""Master keys from settings or from a 0600 key file made once; rotation and retirement."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from headshot.storage.crypto import CryptoError, MasterKeyring
from headshot.storage.keyring import (
    KeyringError,
    encode_key,
    load_master_keyring,
    retire_previous,
    rotate_key_file,
)


@pytest.fixture
def open_umask() -> Iterator[None]:
    # Prove the 0600 mode is chosen, not inherited from a strict umask.
    previous = os.umask(0)
    yield
    os.umask(previous)


def _load(key_file: Path) -> MasterKeyring:
    return load_master_keyring(configured=None, previous=[], key_file=key_file)


def _b64(material: bytes) -> str:
    return base64.b64encode(material).decode()


def test_key_file_is_generated_once_with_0600(tmp_path: Path, open_umask: None) -> None:
    key_file = tmp_path / "data" / "master.key"
    first = _load(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert _load(key_file) == first
    document = json.loads(key_file.read_text())
    assert [k["id"] for k in document["keys"]] == [document["current"]]
    assert [p.name for p in key_file.parent.iterdir()] == ["master.key"]


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    rings: list[MasterKeyring] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        rings.append(_load(key_file))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rings) == 8 and all(ring == rings[0] for ring in rings)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o601], ids=oct)
def test_a_key_file_others_can_use_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "master.key"
    _load(key_file)
    key_file.chmod(mode)
    with pytest.raises(KeyringError, match="0600") as error:
        _load(key_file)
    assert str(tmp_path) not in str(error.value)


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"[]", b'{"current": "x", "keys": []}', b'{"keys": [1]}']
)
def test_a_damaged_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "master.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyringError, match="damaged") as error:
        _load(key_file)
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_configured_keys_are_used_without_a_file(tmp_path: Path) -> None:
    current, old = os.urandom(32), os.urandom(32)
    ring = load_master_keyring(
        configured=_b64(current), previous=[_b64(old)], key_file=tmp_path / "unused"
    )
    assert ring.current.material == current
    assert [k.material for k in ring.previous] == [old]
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize("value", ["not base64!", _b64(b"short"), _b64(bytes(33))])
def test_bad_configured_keys_are_refused_without_echoing_them(tmp_path: Path, value: str) -> None:
    with pytest.raises(KeyringError) as error:
        load_master_keyring(configured=value, previous=[], key_file=tmp_path / "x")
    assert value not in str(error.value)
    with pytest.raises(KeyringError):
        load_master_keyring(configured=_b64(bytes(32)), previous=[value], key_file=tmp_path / "x")
    assert isinstance(error.value, CryptoError)


def test_configured_previous_keys_join_a_key_file(tmp_path: Path) -> None:
    old = os.urandom(32)
    ring = load_master_keyring(configured=None, previous=[_b64(old)], key_file=tmp_path / "k")
    assert [k.material for k in ring.previous] == [old]
    assert ring.current.material != old


def test_rotate_then_retire(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    first = load_master_keyring(configured=None, previous=[], key_file=key_file)
    rotated = rotate_key_file(key_file)
    assert rotated.current != first.current and rotated.previous == (first.current,)
    assert _load(key_file) == rotated
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = rotate_key_file(key_file)
    assert again.previous == (rotated.current, first.current)

    with pytest.raises(KeyringError, match="re-wrap"):
        retire_previous(key_file, in_use={first.current.key_id, again.current.key_id})
    assert _load(key_file) == again, "a refused retirement changes nothing"
    retired = retire_previous(key_file, in_use={again.current.key_id})
    assert retired.current == again.current and retired.previous == ()
    assert _load(key_file) == retired
    assert sorted(p.name for p in tmp_path.iterdir()) == [".master.key.lock", "master.key"]


def test_rotating_a_missing_key_file_names_no_path(tmp_path: Path) -> None:
    with pytest.raises(KeyringError) as error:
        rotate_key_file(tmp_path / "absent.key")
    assert str(tmp_path) not in str(error.value)


def test_encode_key_round_trips_through_settings(tmp_path: Path) -> None:
    ring = load_master_keyring(configured=None, previous=[], key_file=tmp_path / "k")
    again = load_master_keyring(
        configured=encode_key(ring.current), previous=[], key_file=tmp_path / "unused"
    )
    assert again.current == ring.current


def test_an_unusable_folder_is_reported_without_its_path(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_bytes(b"")
    with pytest.raises(KeyringError) as error:
        _load(tmp_path / "not-a-folder" / "master.key")
    assert str(tmp_path) not in str(error.value)
