"""Streaming multipart reading with limits enforced as bytes arrive.

Files are kept in memory only (never spooled to a temporary file, which would put plaintext
photos on disk), so the per-request limit bounds each request's memory and `on_received` lets the
caller count the bytes against a server-wide budget. Any violation refuses the whole request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header

from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
from headshot.domain.filenames import display_filename
from headshot.services.photos import IncomingFile
from headshot.settings import UploadLimits

if TYPE_CHECKING:  # the callbacks type exists for type checkers only
    from python_multipart.multipart import MultipartCallbacks

FIELD = "files"


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
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


class _Collector:
    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.files: list[IncomingFile] = []
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

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name != FIELD:
            return  # other fields are ignored, so they cost no memory
        self._part.data += data[start:end]
        if len(self._part.data) > self.limits.max_file_bytes:
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

    def on_part_end(self) -> None:
        if self._part.name == FIELD:
            filename = self._part.filename or f"photo-{len(self.files) + 1}"
            self.files.append(IncomingFile(filename=filename, data=bytes(self._part.data)))
        self._part = _Part()


async def read_photo_files(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str | None,
    limits: UploadLimits,
    on_received: Callable[[int], None] | None = None,
) -> list[IncomingFile]:
    """Parse a multipart body with one or many `files` parts, enforcing every limit."""
    boundary = _boundary(content_type)
    collector = _Collector(limits)
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
        if on_received is not None:
            on_received(received)
        try:
            parser.write(chunk)
        except (PayloadTooLargeError, InvalidInputError):
            raise
        except Exception as exc:  # the parser's own errors: a malformed body
            raise InvalidInputError(
                "The upload could not be read. Please try again.", code="malformed_upload"
            ) from exc
    parser.finalize()
    if not collector.files:
        raise InvalidInputError(
            "No photos were received. Attach one or more files in the `files` field.",
            code="no_files",
        )
    return collector.files


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
