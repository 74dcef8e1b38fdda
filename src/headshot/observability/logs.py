"""Logging set-up: one JSON object per line (or plain text for a terminal), with the request id
and redaction applied to every record that reaches the root handler."""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from headshot.observability.context import current_request_id
from headshot.observability.redaction import STANDARD_ATTRS, RedactionFilter

# Extras other libraries attach that carry nothing a JSON reader wants (uvicorn's ANSI copy).
NOT_FIELDS = frozenset({"color_message"})
PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"

# Uvicorn's own access log prints raw query strings; ours (HttpMetricsMiddleware) does not.
SILENCED_LOGGERS = ("uvicorn.access",)
# Loggers that come with their own handlers; route them through ours instead.
ADOPTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi", "huey")


class RequestIdFilter(logging.Filter):
    """Stamps the current request id (or "-") on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


def _request_id(record: logging.LogRecord) -> str | None:
    stamped = getattr(record, "request_id", None)
    if stamped and stamped != "-":  # "-" is the plain-text placeholder for "none"
        return str(stamped)
    return current_request_id()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for name, value in record.__dict__.items():
            if name not in STANDARD_ATTRS and name not in NOT_FIELDS and not name.startswith("_"):
                entry[name] = value
        # JSON escapes only C0 controls; bidi overrides, C1 controls (0x9b starts a terminal
        # sequence too) and zero-width characters would pass through, in extras as in the message.
        entry = {escape_nonprintable(k): _printable(v) for k, v in entry.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = escape_nonprintable(record.exc_text, keep_newlines=True)
        if record.stack_info:
            entry["stack"] = escape_nonprintable(
                self.formatStack(record.stack_info), keep_newlines=True
            )
        return jsonlib.dumps(entry, ensure_ascii=False)


def _printable(value: Any) -> Any:
    """`value` for a JSON log field: every string in it escaped, mappings and sequences walked,
    and anything else JSON cannot carry written as its (escaped) `str`."""
    if isinstance(value, str):
        return escape_nonprintable(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {escape_nonprintable(str(k)): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_printable(v) for v in value]
    return escape_nonprintable(str(value))


def escape_nonprintable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with control, bidi/format and other invisible characters written as escapes
    (`\\x1b`, `\\u202e`), so a log line cannot drive a terminal, hide text or fake a new line."""
    return "".join(
        char
        if char.isprintable() or (keep_newlines and char == "\n")
        else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class PlainFormatter(logging.Formatter):
    """The plain-text format with everything a person or caller supplied escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_nonprintable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return escape_nonprintable(super().formatException(ei), keep_newlines=True)

    def formatStack(self, stack_info: str) -> str:
        return escape_nonprintable(super().formatStack(stack_info), keep_newlines=True)


def _is_ours(handler: logging.Handler) -> bool:
    return getattr(handler, "_headshot", False) is True


def configure_logging(*, level: str, json: bool, stream: TextIO | None = None) -> logging.Handler:
    """Install our handler on the root logger (replacing one installed earlier) and return it.

    Other handlers (pytest's capture, an operator's) are left alone.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if _is_ours(h)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._headshot = True  # type: ignore[attr-defined]  # marks the handler we own
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter() if json else PlainFormatter(PLAIN_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
    for name in SILENCED_LOGGERS:
        silenced = logging.getLogger(name)
        silenced.handlers.clear()
        silenced.propagate = False
        silenced.disabled = True
    return handler
