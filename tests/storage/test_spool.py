"""The upload spool: small files stay in memory, larger ones wait encrypted on disk, nothing of
them outlives `discard`, and the sweep at start removes only what no live process holds."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from headshot.storage.crypto import SEGMENT_BYTES, DecryptionError, sealed_size
from headshot.storage.spool import SpooledFile, UploadSpool
from tests.api.photo_helpers import looks_like_plain_image

MEMORY = 256 * 1024


@pytest.fixture
def spool(tmp_path: Path) -> UploadSpool:
    return UploadSpool(tmp_path / "spool", memory_bytes=MEMORY)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)  # the modes must not depend on the umask
    yield
    os.umask(previous)


def _photo_like(size: int) -> bytes:
    """A JPEG start with an EXIF segment, then text that is easy to find again."""
    head = b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00secret-gps"
    body = b"".join(b"plaintext line %08d of a photo\n" % i for i in range(size // 32 + 1))
    return (head + body)[:size]


def _received(spool: UploadSpool, data: bytes, chunk: int = 16 * 1024) -> SpooledFile:
    body = spool.open()
    for start in range(0, len(data), chunk):
        body.write(data[start : start + chunk])
    body.finish()
    return body


def test_a_small_file_never_touches_disk(spool: UploadSpool) -> None:
    data = _photo_like(MEMORY)  # exactly the limit still fits
    body = _received(spool, data)
    assert body.path is None and body.disk_bytes == 0 and body.memory_bytes == len(data)
    assert not spool.folder.exists() or list(spool.folder.iterdir()) == []
    assert body.read() == data
    body.discard()
    assert body.memory_bytes == 0
    with pytest.raises(RuntimeError):
        body.read()  # never an empty file in place of the one that was sent


def test_a_large_file_is_encrypted_on_disk_and_read_back(
    spool: UploadSpool, open_umask: None
) -> None:
    data = _photo_like(5 * 1024 * 1024 + 123)
    body = _received(spool, data)
    assert body.path is not None and body.path.parent == spool.folder
    assert stat.S_IMODE(spool.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(body.path.stat().st_mode) == 0o600
    on_disk = body.path.read_bytes()
    assert len(on_disk) == body.disk_bytes > len(data)
    assert not looks_like_plain_image(on_disk)
    # The JPEG start only where a file starts: random bytes hold any 3 bytes once in 16 MiB.
    assert not on_disk.startswith(b"\xff\xd8\xff")
    for marker in (b"\xff\xd8\xff\xe1\x00\x10Exif", b"secret-gps", b"plaintext line", data[-64:]):
        assert marker not in on_disk
    assert body.memory_bytes == 0, "finished: nothing of a spooled file stays in memory"
    assert body.read() == data
    body.discard()
    assert not body.path.exists()
    body.discard()  # twice is harmless


def test_memory_stays_bounded_while_a_large_file_arrives(spool: UploadSpool) -> None:
    body = spool.open()
    most = 0
    for _ in range(200):  # 12.5 MiB in chunks of 64 KiB
        body.write(os.urandom(64 * 1024))
        most = max(most, body.memory_bytes)
    assert most <= MEMORY + 64 * 1024  # the limit, then at most one unsealed segment
    body.finish()
    assert body.size == 200 * 64 * 1024 and body.memory_bytes == 0
    body.discard()


@pytest.mark.parametrize("size", [MEMORY + 1, 4 * SEGMENT_BYTES, 4 * SEGMENT_BYTES + 1])
def test_segment_boundaries_round_trip(spool: UploadSpool, size: int) -> None:
    data = os.urandom(size)
    body = _received(spool, data, chunk=SEGMENT_BYTES - 7)
    assert body.read() == data
    body.discard()


def test_an_altered_spool_file_is_refused(spool: UploadSpool) -> None:
    body = _received(spool, _photo_like(MEMORY * 2))
    assert body.path is not None
    on_disk = bytearray(body.path.read_bytes())
    on_disk[len(on_disk) // 2] ^= 1
    body.path.write_bytes(bytes(on_disk))
    with pytest.raises(DecryptionError):
        body.read()
    body.discard()


def test_a_spool_file_cut_at_a_segment_boundary_is_refused(spool: UploadSpool) -> None:
    body = _received(spool, os.urandom(MEMORY + 3 * SEGMENT_BYTES))
    assert body.path is not None
    full = body.path.read_bytes()
    body.path.write_bytes(full[: len(full) - sealed_size(SEGMENT_BYTES)])  # one segment less
    with pytest.raises(DecryptionError):
        body.read()
    body.discard()


def test_a_spool_file_with_bytes_appended_is_refused(spool: UploadSpool) -> None:
    body = _received(spool, os.urandom(MEMORY + SEGMENT_BYTES))  # whole segments only
    assert body.path is not None
    with body.path.open("ab") as handle:
        handle.write(b"more")
    with pytest.raises(DecryptionError):
        body.read()
    body.discard()


def test_each_spool_file_has_its_own_key(spool: UploadSpool) -> None:
    data = os.urandom(MEMORY + 1000)
    first, second = _received(spool, data), _received(spool, data)
    assert first.path is not None and second.path is not None
    assert first.path.read_bytes() != second.path.read_bytes()
    first.discard()
    second.discard()


def test_the_sweep_removes_leftovers_but_not_live_files(spool: UploadSpool) -> None:
    live = _received(spool, os.urandom(MEMORY + 1))
    spool.prepare()
    leftovers = [spool.folder / f"crashed-{i}.spool" for i in range(3)]
    for path in leftovers:
        path.write_bytes(b"ciphertext of a process that died")
    (spool.folder / "not-a-spool-file").mkdir()  # not ours: left alone
    assert spool.sweep() == 3
    assert not any(path.exists() for path in leftovers)
    assert live.path is not None and live.path.exists(), "another upload in flight is kept"
    live.discard()
    assert spool.sweep() == 0
    assert [p.name for p in spool.folder.iterdir()] == ["not-a-spool-file"]


def test_a_file_swept_while_in_use_is_still_read(spool: UploadSpool) -> None:
    """If a sweep ever took a live file (it holds its lock from creation on, so it should not),
    its bytes stay readable through the open handle and discard still works."""
    data = os.urandom(MEMORY + 5)
    body = _received(spool, data)
    assert body.path is not None
    body.path.unlink()
    assert body.read() == data
    body.discard()


def test_read_is_refused_before_finish(spool: UploadSpool) -> None:
    body = spool.open()
    body.write(os.urandom(MEMORY + 10))
    with pytest.raises(RuntimeError):
        body.read()
    body.discard()
