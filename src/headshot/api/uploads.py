"""Streaming multipart reading with limits enforced as bytes arrive.

Each file part is written, as it arrives, into a body from the upload spool
(`services.photos.UploadSpool`, `storage/spool.py`): kept in memory while small, else sealed into
an encrypted temporary file, so memory does not grow with the size of uploads. `on_held` is told
after every chunk how many bytes the upload holds in memory and on disk, so the caller can count
them against server-wide budgets. Any violation refuses the whole request.

`read_photo_files` is a context manager: every body it opened is discarded when the block ends,
however it ends (a refusal, an error in a check, the client going away). Those checked before
are discarded already, as soon as their check read them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header

from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
from headshot.domain.filenames import display_filename
from headshot.services.photos import IncomingFile, SpoolFile, UploadSpool
from headshot.settings import UploadLimits

if TYPE_CHECKING:  # the callbacks type exists for type checkers only
    from python_multipart.multipart import MultipartCallbacks

FIELD = "files"


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    body: SpoolFile | None = None
    name: str = ""
    filename: str | None = None


# Browsers write a file name's `"`, LF and CR as `%22`, `%0A` and `%0D` in its form part (HTML
# standard, multipart/form-data encoding); its parser reads them back, and so do we, so a name
# shows as the person chose it rather than with escapes in it. Nothing else is decoded.
_FORM_ESCAPES = {"%22": '"', "%0A": "\n", "%0D": "\r"}
_FORM_ESCAPE = re.compile("|".join(_FORM_ESCAPES))


def form_data_name(sent: str) -> str:
    """A form part's file name as the browser had it, before its multipart escaping."""
    return _FORM_ESCAPE.sub(lambda m: _FORM_ESCAPES[m.group()], sent)


@dataclass(frozen=True)
class ReceivedFiles:
    """The files of one upload, each waiting in its body for the check."""

    files: list[IncomingFile]
    bodies: list[SpoolFile]

    @property
    def memory_bytes(self) -> int:
        return sum(body.memory_bytes for body in self.bodies)

    @property
    def disk_bytes(self) -> int:
        return sum(body.disk_bytes for body in self.bodies)

    @property
    def check_memory_bytes(self) -> int:
        """Memory while checked: the files in memory, plus the largest spooled one read back
        (the check reads one file at a time)."""
        spooled = [body.size for body in self.bodies if body.disk_bytes]
        return self.memory_bytes + max(spooled, default=0)


class _Collector:
    def __init__(self, limits: UploadLimits, spool: UploadSpool) -> None:
        self.limits = limits
        self.spool = spool
        self.files: list[IncomingFile] = []
        self.bodies: list[SpoolFile] = []  # every one opened, so that all can be discarded
        self._part = _Part()
        self._header_field = b""
        self._header_value = b""

    def on_part_begin(self) -> None:
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        disposition = self._part.headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        self._part.name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = params.get(b"filename")
        # Only the display name goes further, into messages, answers and storage alike.
        self._part.filename = (
            display_filename(form_data_name(raw_filename.decode("utf-8", "replace")))
            if raw_filename
            else None
        )
        if self._part.name == FIELD and len(self.files) >= self.limits.max_files_per_request:
            raise PayloadTooLargeError(
                f"Send at most {self.limits.max_files_per_request} photos at a time.",
                code="too_many_files",
            )
        if self._part.name == FIELD:
            self._part.body = self.spool.open()
            self.bodies.append(self._part.body)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        body = self._part.body
        if body is None:
            return  # other fields are ignored, so they cost no memory
        if body.size + (end - start) > self.limits.max_file_bytes:
            name = self._part.filename or "A file"
            raise PayloadTooLargeError(
                f"{name} is larger than {_mb(self.limits.max_file_bytes)}. "
                "Send a smaller photo (a phone camera photo is usually 2 to 6 MB).",
                code="too_large",
                details={
                    "filename": self._part.filename,
                    "limit_bytes": self.limits.max_file_bytes,
                },
            )
        body.write(data[start:end])

    def on_part_end(self) -> None:
        body = self._part.body
        if body is not None:
            body.finish()
            filename = self._part.filename or f"photo-{len(self.files) + 1}"
            self.files.append(IncomingFile(filename=filename, body=body))
        self._part = _Part()

    def discard(self) -> None:
        for body in self.bodies:
            body.discard()

    @property
    def held(self) -> ReceivedFiles:
        return ReceivedFiles(files=list(self.files), bodies=list(self.bodies))


@asynccontextmanager
async def read_photo_files(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str | None,
    limits: UploadLimits,
    spool: UploadSpool,
    on_held: Callable[[int, int], None] | None = None,
) -> AsyncIterator[ReceivedFiles]:
    """Parse a multipart body with one or many `files` parts, enforcing every limit; the
    bodies live until the block ends. `on_held(memory_bytes, disk_bytes)` follows each chunk."""
    boundary = _boundary(content_type)
    collector = _Collector(limits, spool)
    try:
        await _receive(chunks, boundary, collector, limits, on_held)
        yield collector.held
    finally:
        collector.discard()


async def _receive(
    chunks: AsyncIterator[bytes],
    boundary: bytes,
    collector: _Collector,
    limits: UploadLimits,
    on_held: Callable[[int, int], None] | None,
) -> None:
    parser = MultipartParser(boundary, callbacks=_callbacks(collector))
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limits.max_request_bytes:
            raise PayloadTooLargeError(
                f"This upload is larger than {_mb(limits.max_request_bytes)} in total. "
                "Send the photos in smaller groups.",
                code="too_large",
                details={"limit_bytes": limits.max_request_bytes},
            )
        try:
            # Spooled parts are sealed and written here, on the event loop: a chunk is at most
            # a few segments, microseconds of AES-GCM and a write into the page cache.
            parser.write(chunk)
        except (PayloadTooLargeError, InvalidInputError, OSError):
            raise  # limits, and the spool's own failures (a full disk is no malformed body)
        except Exception as exc:  # the parser's own errors: a malformed body
            raise InvalidInputError(
                "The upload could not be read. Please try again.", code="malformed_upload"
            ) from exc
        if on_held is not None:
            held = collector.held
            on_held(held.memory_bytes, held.disk_bytes)
    parser.finalize()
    if not collector.files:
        raise InvalidInputError(
            "No photos were received. Attach one or more files in the `files` field.",
            code="no_files",
        )


def _boundary(content_type: str | None) -> bytes:
    mime, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise InvalidInputError(
            "Photos must be sent as multipart/form-data with a `files` field.",
            code="malformed_upload",
        )
    return boundary


def _callbacks(collector: _Collector) -> MultipartCallbacks:
    return {
        "on_part_begin": collector.on_part_begin,
        "on_part_data": collector.on_part_data,
        "on_part_end": collector.on_part_end,
        "on_header_field": collector.on_header_field,
        "on_header_value": collector.on_header_value,
        "on_header_end": collector.on_header_end,
        "on_headers_finished": collector.on_headers_finished,
    }


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"
