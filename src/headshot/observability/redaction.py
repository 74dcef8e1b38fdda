"""Masking of secrets and personal data in log messages and structured extras.

Applied as a handler filter, so it covers every logger that propagates to the root handler
(ours, uvicorn's, huey's) and exception tracebacks as well as messages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# Names whose values are secret whatever they look like (extras, JSON keys, query params).
SENSITIVE_NAMES = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "password",
        "passwd",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "fal_key",
        "key_secret",
        "master_key",
        "signature",
    }
)
_NAME_ALTERNATION = "|".join(sorted(SENSITIVE_NAMES, key=len, reverse=True)).replace("_", "[_-]")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Header lines: the whole value goes, whatever the scheme.
    (
        re.compile(
            r"(?im)\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|x-fal-key)"
            r"(\s*[:=]\s*)[^\r\n]+"
        ),
        rf"\1\2{MASK}",
    ),
    # fal's `Key <id>:<secret>` scheme and bearer tokens.
    (re.compile(r"(?i)\b(Key)\s+[\w.~+/=-]+:[\w.~+/=-]+"), rf"\1 {MASK}"),
    (re.compile(r"(?i)\b(Bearer)\s+[\w.~+/-]+=*"), rf"\1 {MASK}"),
    # A bare fal key: `<uuid>:<hex secret>`.
    (
        re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}:[0-9a-fA-F]{16,}\b"),
        MASK,
    ),
    # JSON-ish `"password": "..."`.
    (re.compile(rf'(?i)("(?:{_NAME_ALTERNATION})"\s*:\s*")[^"]*(")'), rf"\1{MASK}\2"),
    # Query parameters and `name=value` pairs.
    (re.compile(rf"(?i)\b({_NAME_ALTERNATION})=[^&\s\"',;]+"), rf"\1={MASK}"),
    # Share-link tokens are bearer secrets living in a path.
    (re.compile(r"(/s/)[^/?#\s\"']+"), rf"\1{MASK}"),
    # E-mail addresses: keep the domain (useful for support), drop the person.
    (re.compile(r"[\w.%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"), rf"{MASK}@\1"),
)


def redact(text: str) -> str:
    """`text` with every secret or personal-data shape we know of masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# Any name containing one of these is treated as secret (`new_password`, `x_fal_key`...).
_SENSITIVE_PARTS = ("password", "passwd", "secret", "token", "authorization", "cookie", "api_key")


def _is_sensitive(name: str) -> bool:
    normalized = name.lower().replace("-", "_")
    return (
        normalized in SENSITIVE_NAMES
        or any(p in normalized for p in _SENSITIVE_PARTS)
        or (normalized.endswith("fal_key"))
    )


def redact_value(value: Any) -> Any:
    """Redact strings inside `value`, recursing into mappings and sequences."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and _is_sensitive(k) else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


# Attributes every LogRecord has; anything else on a record came from `extra=`.
STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
)


class RedactionFilter(logging.Filter):
    """Masks secrets in the message, its arguments, extras and traceback. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(record.__dict__.items()):
            if name in STANDARD_ATTRS:
                continue
            record.__dict__[name] = MASK if _is_sensitive(name) else redact_value(value)
        return True
