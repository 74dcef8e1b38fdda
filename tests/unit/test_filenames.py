"""Display names of uploaded files, and log lines that cannot drive a terminal."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from headshot.domain.filenames import MAX_LENGTH, display_filename
from headshot.observability.logs import (
    PLAIN_FORMAT,
    PlainFormatter,
    configure_logging,
    escape_nonprintable,
)

HOSTILE = "x\u202egpj.php<img src=x onerror=alert(1)>\a\x1b[31m.jpg"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (HOSTILE, "xgpj.phpimg src=x onerror=alert(1)[31m.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Pictures\\me.jpg", "me.jpg"),
        ("Cafe\u0301 \u200b selfie\t\n .jpeg", "Caf\u00e9 selfie .jpeg"),
        ("...hidden.jpg..", "hidden.jpg"),
        ("\x00\u202e\u2066", "photo"),
        ("résumé 日本.HEIC", "résumé 日本.HEIC"),
    ],
)
def test_display_filename(raw: str, shown: str) -> None:
    assert display_filename(raw) == shown
    assert display_filename(shown) == shown  # idempotent


def test_long_names_are_capped_keeping_the_extension() -> None:
    name = display_filename("a" * 1000 + ".jpg")
    assert len(name) == MAX_LENGTH and name.endswith("aaa.jpg")


@pytest.mark.parametrize("json", [False, True])
def test_logs_escape_non_printables(json: bool) -> None:
    stream = io.StringIO()
    handler = configure_logging(level="INFO", json=json, stream=stream)
    try:
        logging.getLogger("headshot.test").warning("refused %s", HOSTILE)
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue()
    assert "\x1b" not in line and "\u202e" not in line and "\a" not in line
    assert line.count("\n") == 1
    assert "x1b[31m" in line and "u202e" in line


# Escapes JSON leaves alone (it escapes only C0 controls): a bidi override, an isolate, the
# 8-bit CSI (0x9b), a zero-width space and a line separator.
JSON_PASSES = ("\u202e", "\u2066", "\x9b", "\u200b", "\u2028")


def test_json_logs_escape_non_printables_in_extras_too() -> None:
    stream = io.StringIO()
    handler = configure_logging(level="INFO", json=True, stream=stream)
    hostile = HOSTILE + "".join(JSON_PASSES)
    try:
        try:
            raise ValueError(hostile)
        except ValueError:
            logging.getLogger("headshot.test").exception(
                "refused %s",
                hostile,
                extra={
                    "photo_name": hostile,
                    "names": [hostile, {"nested\u202e": hostile}],
                    "where": Path("/tmp") / hostile,  # not JSON: written as its escaped text
                    "count": 2,
                },
                stack_info=True,
            )
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue()
    assert line.count("\n") == 1
    for char in ("\x1b", "\a", *JSON_PASSES):
        assert char not in line
    entry = json.loads(line)
    escaped = "x\\u202egpj.php<img src=x onerror=alert(1)>\\x07\\x1b[31m.jpg"
    assert entry["message"].startswith("refused " + escaped)
    assert entry["photo_name"].startswith(escaped)
    assert entry["names"][0].startswith(escaped)
    assert entry["names"][1]["nested\\u202e"].startswith(escaped)
    assert entry["where"].startswith("/tmp/" + escaped)
    assert entry["count"] == 2
    assert "\\x9b" in entry["photo_name"] and "\\u2028" in entry["photo_name"]
    assert escaped in entry["exc"] and "ValueError" in entry["exc"]
    assert "Stack (most recent call last)" in entry["stack"]


def test_plain_logs_escape_non_printables_in_the_stack_too() -> None:
    formatter = PlainFormatter(PLAIN_FORMAT)
    assert formatter.formatStack("Stack:\n" + HOSTILE) == "Stack:\n" + escape_nonprintable(HOSTILE)
    assert "\x1b" not in formatter.formatStack(HOSTILE)
