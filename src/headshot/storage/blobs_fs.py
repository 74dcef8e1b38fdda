"""`FsBlobStore`: blobs as files under one root directory (the embedded default).

A key's `/`-separated segments become folders and a file; the key rules of `blobs_keys` keep every
key inside the root. Folders are made 0700 and files 0600, whatever the umask. Because keys are
paths here, one key cannot also be the folder of another (`a` and `a/b`): such a put raises
`BlobError`. Emptied folders are removed on delete, so a deleted user leaves no folder behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from headshot.storage.blobs import BlobError, BlobInfo, BlobNotFoundError
from headshot.storage.blobs_keys import check_key

CHUNK = 64 * 1024
# "~" is outside the key alphabet, so no key can name (or list) a half-written file.
_INCOMING = "~incoming-"
_PUT_ATTEMPTS = 5


class FsBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Orders folder creation (put) against removal of emptied folders (delete) in this
        # process; across processes, put retries instead.
        self._folders = threading.Lock()

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write beside the target, fsync, rename over it: readers see the old blob or the new."""
        path = self._path(key)
        with self._folders:
            fd, temporary = self._open_temporary(path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                written = _copy(chunks, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            _fsync_dir(path.parent)  # makes the rename itself durable
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise BlobError(f"could not store the blob: {exc.strerror}") from exc
            raise
        return written

    def get(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFoundError(key) from None
        except OSError as exc:
            raise BlobError(f"could not read the blob: {exc.strerror}") from exc
        return _FileChunks(handle)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except (NotADirectoryError, IsADirectoryError):
            return  # no blob has that key
        except OSError as exc:
            raise BlobError(f"could not delete the blob: {exc.strerror}") from exc
        with self._folders:
            self._remove_empty_folders(path.parent)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        return (key for key, _ in self._walk(prefix))

    def list_modified(self, prefix: str = "") -> Iterator[BlobInfo]:
        # The mtime is the end of the write: put renames a file written in full, then synced.
        for key, path in self._walk(prefix):
            try:
                mtime = os.stat(path).st_mtime
            except FileNotFoundError:
                continue  # deleted since the folder was read
            yield BlobInfo(key, datetime.fromtimestamp(mtime, UTC))

    def discard_unfinished(self, prefix: str, *, started_before: datetime) -> int:
        # A put in progress keeps writing its temporary file, so its mtime stays recent.
        removed = 0
        cutoff = started_before.timestamp()
        for folder, _, names in os.walk(self._walk_start(prefix)):
            for name in names:
                path = Path(folder, name)
                if not name.startswith(_INCOMING) or not self._under(path.parent, prefix):
                    continue
                try:
                    if path.stat().st_mtime >= cutoff:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue  # its put finished (renamed) or another sweep removed it
                except OSError as exc:
                    raise BlobError(f"could not remove a partial blob: {exc.strerror}") from exc
                removed += 1
                with self._folders:
                    self._remove_empty_folders(path.parent)
        return removed

    def _walk(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(key, file path) of every blob under prefix, folder by folder (os.walk is top-down,
        so everything under one folder comes before its next sibling)."""
        # os.walk skips folders that vanish mid-walk (a concurrent delete), which rglob does not.
        for folder, _, names in os.walk(self._walk_start(prefix)):
            for name in names:
                if name.startswith(_INCOMING):
                    continue
                path = os.path.join(folder, name)
                key = Path(path).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key, path

    def _under(self, folder: Path, prefix: str) -> bool:
        """Whether a file in folder would have a key that starts with prefix."""
        inside = "" if folder == self.root else f"{folder.relative_to(self.root).as_posix()}/"
        return inside.startswith(prefix)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _walk_start(self, prefix: str) -> Path:
        """The deepest folder all matches live in: listing one user's keys walks only theirs."""
        folders = prefix.split("/")[:-1]
        if not folders:
            return self.root
        try:
            return self._path("/".join(folders))
        except BlobError:  # no valid key starts with this prefix; walking the root finds none
            return self.root

    def _remove_empty_folders(self, folder: Path) -> None:
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:  # not empty (other blobs live there) or already gone
                return
            folder = folder.parent

    def _open_temporary(self, folder: Path) -> tuple[int, str]:
        for _ in range(_PUT_ATTEMPTS):
            try:
                _make_folders(folder)
                return tempfile.mkstemp(dir=folder, prefix=_INCOMING)
            except FileNotFoundError:
                continue  # a concurrent delete removed the emptied folder: make it again
            except OSError as exc:
                raise BlobError(f"could not store the blob: {exc.strerror}") from exc
        raise BlobError("could not create the blob's folder")


class _FileChunks(Iterator[bytes]):
    """Chunks of an open file, closed at the end, on `close()`, or when dropped unread."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def __next__(self) -> bytes:
        if self._handle.closed:
            raise StopIteration
        try:
            chunk = self._handle.read(CHUNK)
        except OSError as exc:
            self.close()
            raise BlobError(f"could not read the blob: {exc.strerror}") from exc
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._handle.close()

    def __del__(self) -> None:
        self.close()


def _copy(chunks: Iterable[bytes], handle: BinaryIO) -> int:
    written = 0
    for chunk in chunks:
        handle.write(chunk)
        written += len(chunk)
    return written


def _make_folders(folder: Path) -> None:
    # mkdir(parents=True) gives intermediate folders the umask's mode; make each one 0700.
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # a concurrent put made it first
            path.mkdir(mode=0o700)
            os.chmod(path, 0o700)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
