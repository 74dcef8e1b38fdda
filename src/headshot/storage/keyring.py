"""Where master keys come from: settings, or a key file generated once with mode 0600.

Key file (JSON): `{"current": "<id>", "keys": [{"id": "<id>", "key": "<base64>"}, ...]}`.
Rotation is `rotate_key_file` (new current key, old ones kept), then re-wrapping every data key
(`Vault.rewrap_all`), then `retire_previous`. Changes to the file happen under an advisory lock,
by writing a new file and renaming it, so readers never see a half-written key file (the lock
is the empty `.<name>.lock` beside it).

Errors (`KeyringError`, a `CryptoError`) name neither key material nor full paths.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from headshot.storage.crypto import KEY_BYTES, CryptoError, MasterKey, MasterKeyring


class KeyringError(CryptoError):
    """The master key configuration is unusable (missing, damaged, or too widely readable)."""


def load_master_keyring(
    *, configured: str | None, previous: Sequence[str], key_file: Path
) -> MasterKeyring:
    """The configured base64 key, else the key file (created on first use); configured previous
    keys are added either way, so a deployment can move from a configured key to a file."""
    earlier = tuple(_decode(k, "a previous master key") for k in previous)
    if configured:
        return MasterKeyring(current=_decode(configured, "the master key"), previous=earlier)
    if not key_file.exists():
        with _without_paths():
            _create(key_file, [MasterKey.of(os.urandom(KEY_BYTES))])
    ring = _read(key_file)
    extra = tuple(k for k in earlier if k not in (ring.current, *ring.previous))
    return MasterKeyring(current=ring.current, previous=ring.previous + extra)


def rotate_key_file(key_file: Path) -> MasterKeyring:
    """Add a new current key; earlier keys stay (as previous) until `retire_previous`."""
    with _locked(key_file), _without_paths():
        ring = _read(key_file)
        new = MasterKey.of(os.urandom(KEY_BYTES))
        _replace(key_file, [new, ring.current, *ring.previous])
        return _read(key_file)


def retire_previous(key_file: Path, *, in_use: Collection[str] = ()) -> MasterKeyring:
    """Drop every key but the current one, once no data key is wrapped by them.

    `in_use` is the set of master key ids data keys still name (`Vault.master_keys_in_use`);
    retiring one of those would make its users' data unreadable, so it is refused.
    """
    with _locked(key_file), _without_paths():
        ring = _read(key_file)
        stranded = {k.key_id for k in ring.previous} & set(in_use)
        if stranded:
            raise KeyringError(
                f"{len(stranded)} previous master key(s) still wrap data keys; re-wrap first"
            )
        _replace(key_file, [ring.current])
        return _read(key_file)


def encode_key(key: MasterKey) -> str:
    """The base64 form that `HEADSHOT_MASTER_KEY` takes."""
    return base64.b64encode(key.material).decode()


def _decode(value: str, source: str) -> MasterKey:
    try:
        material = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError, AttributeError):
        raise KeyringError(f"{source} is not valid base64") from None
    if len(material) != KEY_BYTES:
        raise KeyringError(f"{source} must decode to {KEY_BYTES} bytes")
    return MasterKey.of(material)


def _document(keys: Sequence[MasterKey]) -> bytes:
    entries = [{"id": k.key_id, "key": encode_key(k)} for k in keys]
    return json.dumps({"current": keys[0].key_id, "keys": entries}, indent=1).encode()


def _create(key_file: Path, keys: Sequence[MasterKey]) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = _write_temporary(key_file, keys)
    try:
        # link() publishes the complete file atomically and fails if one exists: when two
        # processes start at once, the first file wins and both read it.
        os.link(temporary, key_file)
    except FileExistsError:
        pass
    except OSError:
        _create_in_place(key_file, keys)  # a filesystem without hard links
    finally:
        os.unlink(temporary)


def _create_in_place(key_file: Path, keys: Sequence[MasterKey]) -> None:
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(_document(keys))
        handle.flush()
        os.fsync(handle.fileno())


def _replace(key_file: Path, keys: Sequence[MasterKey]) -> None:
    os.replace(_write_temporary(key_file, keys), key_file)


def _write_temporary(key_file: Path, keys: Sequence[MasterKey]) -> str:
    # mkstemp opens with O_CREAT | O_EXCL and mode 0600: the key is never readable by others.
    fd, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(_document(keys))
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


@contextlib.contextmanager
def _without_paths() -> Iterator[None]:
    # OSError messages carry the full path; ours say what failed and why, not where.
    try:
        yield
    except OSError as exc:
        raise KeyringError(f"cannot write the master key file: {exc.strerror}") from None


@contextlib.contextmanager
def _locked(key_file: Path) -> Iterator[None]:
    lock = key_file.with_name(f".{key_file.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise KeyringError(f"cannot lock the master key file: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two rotations at once would lose a key
        yield
    finally:
        os.close(fd)


def _read(key_file: Path) -> MasterKeyring:
    try:
        mode = key_file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"the master key file {key_file.name} is accessible to other users; "
                "restrict it to mode 0600"
            )
        raw = key_file.read_bytes()
    except OSError as exc:
        raise KeyringError(f"cannot read the master key file: {exc.strerror}") from None
    return _parse(raw)


def _parse(raw: bytes) -> MasterKeyring:
    try:
        document = json.loads(raw)
        keys = [_decode(entry["key"], "a key in the master key file") for entry in document["keys"]]
        current = next(k for k in keys if k.key_id == document["current"])
    except (KeyError, StopIteration, TypeError, ValueError):
        raise KeyringError("the master key file is damaged") from None
    return MasterKeyring(current=current, previous=tuple(k for k in keys if k != current))
