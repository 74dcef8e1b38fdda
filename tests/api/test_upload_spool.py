"""Uploads wait for their check in a bounded spool: small files in memory, larger ones encrypted
on disk, deleted after success, refusal, errors and disconnects, with both budgets answering 503
and `Retry-After` when full."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect

from headshot.api.admission import UploadTicket
from headshot.api.app import create_app
from headshot.api.errors import OUT_OF_SPACE, is_out_of_space
from headshot.api.uploads import read_photo_files
from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
from headshot.services.container import Services
from headshot.settings import UploadLimits
from headshot.storage.spool import SpooledFile, UploadSpool
from tests.api.conftest import sign_up
from tests.api.photo_helpers import looks_like_plain_image, portrait_bytes

API = "/api/v1"
SMALL_SPOOL = 64 * 1024
SECRET = b"appended secret that must never reach the disk in the clear\n"


class RecordingSpool:
    """Test double: the real spool, keeping every body it made and what lay on disk when the
    body was finished (just before its check)."""

    def __init__(self, spool: UploadSpool) -> None:
        self.spool = spool
        self.bodies: list[SpooledFile] = []
        self.on_disk: list[bytes] = []

    def open(self) -> RecordingBody:
        body = self.spool.open()
        self.bodies.append(body)
        return RecordingBody(body, self.on_disk)

    @property
    def paths(self) -> list[Path]:
        return [body.path for body in self.bodies if body.path is not None]


class RecordingBody:
    """Test double around one real spooled file (see `RecordingSpool`)."""

    def __init__(self, body: SpooledFile, on_disk: list[bytes]) -> None:
        self._body = body
        self._on_disk = on_disk

    @property
    def size(self) -> int:
        return self._body.size

    @property
    def disk_bytes(self) -> int:
        return self._body.disk_bytes

    @property
    def memory_bytes(self) -> int:
        return self._body.memory_bytes

    def write(self, data: bytes) -> None:
        self._body.write(data)

    def finish(self) -> None:
        self._body.finish()
        if self._body.path is not None:
            self._on_disk.append(self._body.path.read_bytes())

    def read(self) -> bytes:
        return self._body.read()

    def discard(self) -> None:
        self._body.discard()


@pytest.fixture
def spooling(
    make_services: Callable[..., Services],
) -> Callable[..., tuple[Services, RecordingSpool]]:
    def make(**uploads: int) -> tuple[Services, RecordingSpool]:
        services = make_services(uploads={"spool_memory_bytes": SMALL_SPOOL, **uploads})
        assert isinstance(services.upload_spool, UploadSpool)
        recording = RecordingSpool(services.upload_spool)
        services.upload_spool = recording
        return services, recording

    return make


@pytest.fixture
def big_photo(testdata: Path) -> bytes:
    """A real portrait with 4 MB appended after its end (the sanitiser drops the tail)."""
    return portrait_bytes(testdata) + SECRET * (4 * 1024 * 1024 // len(SECRET))


def _client(app: FastAPI, **options: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", **options)


def _upload(client: TestClient, headers: dict[str, str], *files: tuple[str, bytes]) -> Any:
    session_id = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
    parts = [("files", (name, data, "image/jpeg")) for name, data in files]
    return client.post(f"{API}/sessions/{session_id}/photos", files=parts, headers=headers)


def _spool_folder(services: Services) -> list[Path]:
    folder = services.settings.data_dir / "spool"
    return list(folder.iterdir()) if folder.exists() else []


def test_a_large_photo_waits_encrypted_on_disk_and_is_gone_once_stored(
    spooling: Callable[..., tuple[Services, RecordingSpool]], big_photo: bytes
) -> None:
    services, spool = spooling()
    with _client(create_app(services)) as client:
        response = _upload(client, sign_up(client, "big@example.com"), ("big.jpg", big_photo))
        assert response.status_code == 201, response.text
        assert response.json()["photos"][0]["accepted"] is True
    (on_disk,) = spool.on_disk
    assert len(on_disk) > len(big_photo)
    # The JPEG start only where a file starts: random bytes hold any 3 bytes once in 16 MiB.
    assert not looks_like_plain_image(on_disk) and big_photo[:16] not in on_disk
    assert SECRET[:32] not in on_disk and big_photo[1000:1064] not in on_disk
    assert spool.paths and not any(path.exists() for path in spool.paths)
    assert _spool_folder(services) == []


def test_a_small_photo_never_touches_disk(
    spooling: Callable[..., tuple[Services, RecordingSpool]], testdata: Path
) -> None:
    services, spool = spooling(spool_memory_bytes=1024 * 1024)
    photo = portrait_bytes(testdata)
    assert len(photo) < 1024 * 1024
    with _client(create_app(services)) as client:
        response = _upload(client, sign_up(client, "small@example.com"), ("me.jpg", photo))
        assert response.status_code == 201
    assert len(spool.bodies) == 1 and spool.paths == [] and spool.on_disk == []
    assert _spool_folder(services) == []


@pytest.mark.parametrize(
    ("limits", "status", "code"),
    [({"max_file_bytes": 3_500_000}, 413, "too_large"), ({}, 422, "format")],
)
def test_spool_files_are_gone_after_a_refusal(
    spooling: Callable[..., tuple[Services, RecordingSpool]],
    limits: dict[str, int],
    status: int,
    code: str,
) -> None:
    services, spool = spooling(**limits)
    not_a_photo = SECRET * (3_000_000 // len(SECRET))
    too_large = SECRET * (4_000_000 // len(SECRET))
    files = [("notes.jpg", not_a_photo)] + ([("more.jpg", too_large)] if status == 413 else [])
    with _client(create_app(services)) as client:
        response = _upload(client, sign_up(client, "no@example.com"), *files)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        admission = client.app.state.admission  # type: ignore[attr-defined]
        assert admission.held_bytes == 0 and admission.spooled_bytes == 0
    assert spool.paths, "a file was spooled before the upload was refused"
    assert not any(path.exists() for path in spool.paths)
    assert _spool_folder(services) == []


def test_spool_files_are_gone_after_an_error_in_the_check(
    spooling: Callable[..., tuple[Services, RecordingSpool]],
    big_photo: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services, spool = spooling()

    def failing_check(*_: object, **__: object) -> None:
        raise RuntimeError("the check broke")

    monkeypatch.setattr(services.photos._analyzer, "analyze", failing_check)
    with _client(create_app(services), raise_server_exceptions=False) as client:
        headers = sign_up(client, "boom@example.com")
        response = _upload(client, headers, ("a.jpg", big_photo), ("b.jpg", big_photo))
        assert response.status_code == 500
        admission = client.app.state.admission  # type: ignore[attr-defined]
        assert admission.held_bytes == 0 and admission.spooled_bytes == 0
    assert len(spool.paths) == 2, "both were spooled; the second never reached its check"
    assert not any(path.exists() for path in spool.paths)


class FullDiskBody(RecordingBody):
    """Test double: a spooled body on a disk that fills up once it holds 1 MB."""

    def write(self, data: bytes) -> None:
        if self.size + len(data) > 1024 * 1024:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().write(data)


def test_a_full_disk_answers_507_in_plain_words_and_keeps_nothing(
    spooling: Callable[..., tuple[Services, RecordingSpool]],
    big_photo: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services, spool = spooling()
    monkeypatch.setattr(
        spool, "open", lambda: FullDiskBody(spool.spool.open(), spool.on_disk), raising=False
    )
    app = create_app(services)
    with _client(app, raise_server_exceptions=False) as client:
        headers = sign_up(client, "full-disk@example.com")
        session = client.post(f"{API}/sessions", json={}, headers=headers).json()["id"]
        photos = f"{API}/sessions/{session}/photos"
        parts = [("files", ("big.jpg", big_photo, "image/jpeg"))]
        response = client.post(photos, files=parts, headers=headers)
        assert response.status_code == 507, response.text
        error = response.json()["error"]
        assert error["code"] == "out_of_space" and error["message"] == OUT_OF_SPACE
        assert "No space" not in response.text
        assert app.state.admission.held_bytes == 0 and app.state.admission.spooled_bytes == 0
        assert client.get(photos, headers=headers).json()["photos"] == []
    assert _spool_folder(services) == []


def test_a_full_database_or_disk_is_told_apart_from_other_errors() -> None:
    full_sqlite = sqlite3.OperationalError("database or disk is full")
    full_sqlite.sqlite_errorcode = sqlite3.SQLITE_FULL
    try:
        try:
            raise full_sqlite
        except sqlite3.OperationalError as error:
            raise RuntimeError("wrapped by the database layer") from error
    except RuntimeError as wrapped:
        assert is_out_of_space(wrapped)
    assert is_out_of_space(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_out_of_space(OSError(errno.EACCES, "Permission denied"))
    assert not is_out_of_space(sqlite3.OperationalError("database is locked"))


def test_leftover_spool_files_are_deleted_at_start(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    folder = services.settings.data_dir / "spool"
    folder.mkdir(mode=0o700)
    leftover = folder / "0123abcd.spool"
    leftover.write_bytes(b"ciphertext left by a crash")
    app = create_app(services)
    assert leftover.exists()
    with _client(app):
        assert not leftover.exists()


def test_a_full_spool_answers_503_with_retry_after(
    spooling: Callable[..., tuple[Services, RecordingSpool]], big_photo: bytes
) -> None:
    services, spool = spooling(max_spool_bytes=8 * 1024 * 1024)
    app = create_app(services)
    with _client(app) as client:
        headers = sign_up(client, "full@example.com")
        with app.state.admission.admit(6 * 1024 * 1024):  # another upload holds the spool
            busy = _upload(client, headers, ("big.jpg", big_photo))
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "3"
            assert busy.json()["error"]["code"] == "busy"
        assert _upload(client, headers, ("big.jpg", big_photo)).status_code == 201
        assert app.state.admission.spooled_bytes == 0
    assert not any(path.exists() for path in spool.paths)


def test_a_full_memory_budget_answers_503_with_retry_after(
    spooling: Callable[..., tuple[Services, RecordingSpool]], testdata: Path
) -> None:
    services, _ = spooling(max_inflight_bytes=1024 * 1024, spool_memory_bytes=1024 * 1024)
    app = create_app(services)
    with _client(app) as client:
        headers = sign_up(client, "memory@example.com")
        with app.state.admission.admit(0) as other:
            other.hold(memory=1024 * 1024 - 1000, disk=0)  # another upload's files in memory
            busy = _upload(client, headers, ("me.jpg", portrait_bytes(testdata)))
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "3"
        assert app.state.admission.held_bytes == 0


def test_only_a_bounded_amount_is_held_in_memory(
    spooling: Callable[..., tuple[Services, RecordingSpool]],
    big_photo: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services, _ = spooling()
    holds: list[tuple[int, int]] = []
    hold = UploadTicket.hold

    def recording_hold(ticket: UploadTicket, memory: int, disk: int) -> None:
        holds.append((memory, disk))
        hold(ticket, memory, disk)

    monkeypatch.setattr(UploadTicket, "hold", recording_hold)
    with _client(create_app(services)) as client:
        headers = sign_up(client, "bounded@example.com")
        files = [("a.jpg", big_photo), ("b.jpg", big_photo[:-100_000])]
        assert _upload(client, headers, *files).status_code == 201
    *receiving, checking = holds
    # While arriving: the in-memory part of each file, one unsealed segment, one chunk.
    assert max(memory for memory, _ in receiving) <= SMALL_SPOOL + 2 * 64 * 1024
    assert max(disk for _, disk in receiving) > 2 * len(big_photo) - 200_000
    # While checked: the largest file only, read back whole in its check.
    assert checking[0] == len(big_photo)


BOUNDARY = b"b0undary"


def _streamed(*files: bytes, then: BaseException | None = None) -> AsyncIterator[bytes]:
    """A multipart body in 64 KiB chunks, as a server receives it; `then` raised at the end."""
    body = b"".join(
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="files"; filename="f.jpg"\r\n\r\n' + data + b"\r\n"
        for data in files
    )
    body += b"--" + BOUNDARY + b"--\r\n" if then is None else b""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]
        if then is not None:
            raise then

    return chunks()


def _receive(spool: UploadSpool, chunks: AsyncIterator[bytes], **limits: int) -> list[bytes]:
    async def receive() -> list[bytes]:
        async with read_photo_files(
            chunks,
            content_type=f"multipart/form-data; boundary={BOUNDARY.decode()}",
            limits=UploadLimits(**limits),
            spool=spool,
        ) as received:
            assert spool.folder.exists() and list(spool.folder.iterdir())
            return [file.take() for file in received.files]

    return anyio.run(receive)


def test_streamed_files_are_spooled_and_read_back(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path / "spool", memory_bytes=SMALL_SPOOL)
    first, second = SECRET * 20_000, SECRET * 30_000
    assert _receive(spool, _streamed(first, second)) == [first, second]
    assert list(spool.folder.iterdir()) == []


def test_a_file_refused_midway_leaves_no_spool_file(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path / "spool", memory_bytes=SMALL_SPOOL)
    watched = RecordingSpool(spool)

    async def receive() -> None:
        async with read_photo_files(
            _streamed(SECRET * 50_000),
            content_type=f"multipart/form-data; boundary={BOUNDARY.decode()}",
            limits=UploadLimits(max_file_bytes=1_000_000),
            spool=watched,
        ):
            raise AssertionError("the file is over the limit")

    with pytest.raises(PayloadTooLargeError):
        anyio.run(receive)
    assert watched.paths, "spooled until the limit was reached"
    assert list(spool.folder.iterdir()) == []


def test_files_already_spooled_are_gone_when_the_client_goes_away(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path / "spool", memory_bytes=SMALL_SPOOL)
    watched = RecordingSpool(spool)

    async def receive() -> None:
        async with read_photo_files(
            _streamed(SECRET * 20_000, SECRET * 20_000, then=ClientDisconnect()),
            content_type=f"multipart/form-data; boundary={BOUNDARY.decode()}",
            limits=UploadLimits(),
            spool=watched,
        ):
            raise AssertionError("the body never ended")

    with pytest.raises(ClientDisconnect):
        anyio.run(receive)
    assert len(watched.paths) == 2
    assert list(spool.folder.iterdir()) == []


def _refusal(spool: UploadSpool, chunks: AsyncIterator[bytes], **limits: int) -> Exception:
    async def receive() -> None:
        async with read_photo_files(
            chunks,
            content_type=f"multipart/form-data; boundary={BOUNDARY.decode()}",
            limits=UploadLimits(**limits),
            spool=spool,
        ):
            raise AssertionError("the upload was refused")

    with pytest.raises(Exception) as refused:
        anyio.run(receive)
    return refused.value


def test_a_request_over_its_limit_leaves_no_spool_file(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path / "spool", memory_bytes=SMALL_SPOOL)
    refused = _refusal(spool, _streamed(SECRET * 40_000), max_request_bytes=1_000_000)
    assert isinstance(refused, PayloadTooLargeError) and refused.code == "too_large"
    assert list(spool.folder.iterdir()) == []


def test_a_malformed_body_leaves_no_spool_file(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path / "spool", memory_bytes=SMALL_SPOOL)

    async def chunks() -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in _streamed(SECRET * 20_000, then=ClientDisconnect()):
            yield chunk
            sent += 1
            if sent == 4:  # once the file is spooled, a part with a broken header
                assert list(spool.folder.iterdir())
                yield b"\r\n--" + BOUNDARY + b"\r\nno header end\xff\r\r\r\n"

    refused = _refusal(spool, chunks())
    assert isinstance(refused, InvalidInputError) and refused.code == "malformed_upload"
    assert list(spool.folder.iterdir()) == []


def test_a_failing_spool_is_not_taken_for_a_malformed_body(tmp_path: Path) -> None:
    blocked = tmp_path / "spool"
    blocked.write_bytes(b"a file where the spool folder should be")
    spool = UploadSpool(blocked, memory_bytes=SMALL_SPOOL)
    assert isinstance(_refusal(spool, _streamed(SECRET * 20_000)), OSError)
