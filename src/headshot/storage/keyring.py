"""Where master keys come from: settings, or a key file generated once with mode 0600.

Key file (JSON): `{"current": "<id>", "keys": [{"id": "<id>", "key": "<base64>"}, ...]}`.
Errors name neither key material nor full paths.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from headshot.storage.crypto import KEY_BYTES, CryptoError, MasterKey, MasterKeyring


class KeyringError(CryptoError):
    """The master key configuration is unusable."""


def load_master_keyring(
    *, configured: str | None, previous: Sequence[str], key_file: Path
) -> MasterKeyring:
    """The configured key (with earlier ones), else the key file, created on first use."""
    if configured:
        return MasterKeyring(
            current=_decode(configured, "HEADSHOT_MASTER_KEY"),
            previous=tuple(_decode(k, "HEADSHOT_PREVIOUS_MASTER_KEYS") for k in previous),
        )
    if not key_file.exists():
        _create(key_file, [MasterKey.of(os.urandom(KEY_BYTES))])
    return _read(key_file)


def rotate_key_file(key_file: Path) -> MasterKeyring:
    """Add a new current key; earlier keys stay (as previous) until `retire_previous`."""
    ring = _read(key_file)
    new = MasterKey.of(os.urandom(KEY_BYTES))
    _replace(key_file, [new, ring.current, *ring.previous])
    return _read(key_file)


def retire_previous(key_file: Path) -> MasterKeyring:
    """Drop every key but the current one (after all data keys were re-wrapped)."""
    ring = _read(key_file)
    _replace(key_file, [ring.current])
    return _read(key_file)


def encode_key(key: MasterKey) -> str:
    return base64.b64encode(key.material).decode()


def _decode(value: str, source: str) -> MasterKey:
    try:
        material = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyringError(f"{source} is not valid base64") from exc
    if len(material) != KEY_BYTES:
        raise KeyringError(f"{source} must decode to {KEY_BYTES} bytes")
    return MasterKey.of(material)


def _document(keys: Sequence[MasterKey]) -> bytes:
    entries = [{"id": k.key_id, "key": encode_key(k)} for k in keys]
    return json.dumps({"current": keys[0].key_id, "keys": entries}, indent=1).encode()


def _create(key_file: Path, keys: Sequence[MasterKey]) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; read theirs
    with os.fdopen(fd, "wb") as handle:
        handle.write(_document(keys))
        handle.flush()
        os.fsync(handle.fileno())


def _replace(key_file: Path, keys: Sequence[MasterKey]) -> None:
    temporary = key_file.with_name(key_file.name + ".new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(_document(keys))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, key_file)


def _read(key_file: Path) -> MasterKeyring:
    mode = key_file.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(
            "the master key file is readable by other users; restrict it to mode 0600"
        )
    try:
        document = json.loads(key_file.read_bytes())
        keys = [_decode(entry["key"], "the master key file") for entry in document["keys"]]
        current = next(k for k in keys if k.key_id == document["current"])
    except (KeyError, StopIteration, TypeError, json.JSONDecodeError) as exc:
        raise KeyringError("the master key file is damaged") from exc
    return MasterKeyring(current=current, previous=tuple(k for k in keys if k != current))
