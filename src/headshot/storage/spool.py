"""Where an uploaded file waits for its check: memory while small, else an encrypted spool file.

A file stays in memory up to `memory_bytes`. The write that would take it past that moves it to
a new file in the spool folder (made 0700; files 0600, created with O_EXCL), and from then on
every 64 KiB of plaintext is sealed and written as it arrives, so only one segment of it is
ever in memory until the file is read back for its check.

Each spool file is encrypted under its own random key, held only in this process's memory:
segment i is a blob of `storage/crypto.py` (AES-256-GCM) with i as associated data, so segments
cannot be reordered, and the plaintext size is known here, so truncation shows too. A crash,
or a copy of the disk, leaves only ciphertext nobody can read.

The owner discards a spool file as soon as its bytes have been read for the check, or the
upload failed. `sweep()` at server start deletes what an earlier process left behind. Each live
spool file holds an exclusive `flock`, so a server starting beside another one on the same data
directory leaves the other's uploads alone.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from headshot.storage.crypto import (
    SEGMENT_BYTES,
    DecryptionError,
    decrypt_bytes,
    encrypt_bytes,
    new_data_key,
    sealed_size,
)

SUFFIX = ".spool"
_RECORD_BYTES = sealed_size(SEGMENT_BYTES)  # one full sealed segment on disk


class UploadSpool:
    """Makes `SpooledFile`s that spill to encrypted files under `folder` beyond `memory_bytes`."""

    def __init__(self, folder: Path, *, memory_bytes: int) -> None:
        self.folder = folder
        self.memory_bytes = memory_bytes

    def open(self) -> SpooledFile:
        return SpooledFile(self, memory_bytes=self.memory_bytes)

    def sweep(self) -> int:
        """Delete the spool files no live process holds (left by a crash); how many there were."""
        self.prepare()
        removed = 0
        for path in self.folder.iterdir():
            try:
                with path.open("rb") as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    path.unlink()
                    removed += 1
            except BlockingIOError:
                continue  # a live upload of another server process on this data directory
            except (FileNotFoundError, IsADirectoryError):
                continue  # gone meanwhile, or not ours to sweep
        return removed

    def prepare(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)  # whatever the umask, and if it existed more open
        return self.folder

    def create(self) -> tuple[Path, BinaryIO]:
        """A new, empty spool file (0600), locked against the sweep of another process."""
        path = self.prepare() / f"{secrets.token_hex(16)}{SUFFIX}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        handle = os.fdopen(fd, "w+b")
        fcntl.flock(handle, fcntl.LOCK_EX)
        return path, handle


class SpooledFile:
    """One uploaded file: `write` as it arrives, `finish`, `read` once for the check, `discard`.

    Used by one thread at a time: written on the event loop, read back in a check thread.
    """

    def __init__(self, spool: UploadSpool, *, memory_bytes: int) -> None:
        self._spool = spool
        self._memory_limit = memory_bytes
        self._buffer = bytearray()  # the whole file while in memory; else the unsealed tail
        self._key: bytes | None = None
        self._handle: BinaryIO | None = None
        self._segments = 0
        self._discarded = False
        self.path: Path | None = None
        self.size = 0
        self.disk_bytes = 0

    @property
    def memory_bytes(self) -> int:
        """Plaintext of this file held in memory now."""
        return len(self._buffer)

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.size += len(data)
        if self._handle is None and self.size > self._memory_limit:
            self._spill()
        if self._handle is not None:
            self._seal(final=False)

    def finish(self) -> None:
        """No more data: seal the tail, so nothing of a spooled file stays in memory."""
        if self._handle is not None:
            self._seal(final=True)
            self._handle.flush()

    def read(self) -> bytes:
        """The plaintext (call `finish` first); raises `DecryptionError` if the file was altered."""
        if self._discarded:
            raise RuntimeError("this upload body was discarded already")
        if self._handle is None:
            return bytes(self._buffer)
        if self._key is None or self._buffer:
            raise RuntimeError("read a spooled file after finish()")
        self._handle.seek(0)
        parts: list[bytes] = []
        for index in range(self._segments):
            record = self._handle.read(_RECORD_BYTES)
            parts.append(decrypt_bytes(self._key, record, associated_data=_index(index)))
        data = b"".join(parts)
        if len(data) != self.size or self._handle.read(1):
            raise DecryptionError("the spool file does not hold what was written")
        return data

    def discard(self) -> None:
        """Forget the bytes and delete the spool file; safe to call more than once."""
        self._discarded = True
        self._buffer = bytearray()
        self._key = None
        if self._handle is not None:
            self._handle.close()  # also drops the lock
            self._handle = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)  # missing: a sweep took it already

    def _spill(self) -> None:
        self._key = new_data_key()
        self.path, self._handle = self._spool.create()

    def _seal(self, *, final: bool) -> None:
        assert self._handle is not None and self._key is not None
        start = 0
        with memoryview(self._buffer) as view:  # released before the buffer is resized
            while len(view) - start >= SEGMENT_BYTES or (final and start < len(view)):
                block = bytes(view[start : start + SEGMENT_BYTES])
                sealed = encrypt_bytes(self._key, block, associated_data=_index(self._segments))
                self._handle.write(sealed)
                self._segments += 1
                self.disk_bytes += len(sealed)
                start += len(block)
        del self._buffer[:start]


def _index(segment: int) -> bytes:
    return segment.to_bytes(8, "big")
