"""Display names of uploaded files, and log lines that cannot drive a terminal."""

from __future__ import annotations

import io
import logging

import pytest

from headshot.domain.filenames import MAX_LENGTH, display_filename
from headshot.observability.logs import configure_logging

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
