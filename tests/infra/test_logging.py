"""Structured JSON logs, redaction of secrets and personal data, our access log line."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from headshot.observability import configure_logging, redact, redact_value
from tests.infra.apps import get, tiny_app

FAL_KEY = "4f1c9a2e-1b2c-4d3e-8f90-a1b2c3d4e5f6:0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi", "Authorization: ***"),
        ("headers={'authorization': 'Key abc:def'}", "abc:def", "Key ***"),
        ("cookie: headshot_session=s3cr3t; other=1", "s3cr3t", "cookie: ***"),
        ("calling fal with Key a1b2:c3d4e5", "c3d4e5", "Key ***"),
        ("token is bearer abc.def-ghi_jkl", "abc.def", "bearer ***"),
        (f"FAL_KEY {FAL_KEY} loaded", "0123456789abcdef", "FAL_KEY *** loaded"),
        ("GET /x?token=t0k3n&page=2", "t0k3n", "token=***&page=2"),
        ("GET /x?access_token=t0k3n", "t0k3n", "access_token=***"),
        ("login password=hunter2 failed", "hunter2", "password=***"),
        ('{"password": "hunter2", "email_ok": true}', "hunter2", '"password": "***"'),
        ("user alice.smith+tag@example.co.uk signed in", "alice.smith", "***@example.co.uk"),
        ("GET /s/Zx9_share-token HTTP/1.1", "Zx9_share", "/s/***"),
    ],
)
def test_redact_masks_every_known_shape(text: str, secret: str, kept: str) -> None:
    redacted = redact(text)

    assert secret not in redacted
    assert kept in redacted


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "photo ph_123 accepted: 3 findings, sharpness=0.82, /api/v1/sessions/s1"

    assert redact(text) == text


def test_redact_value_masks_sensitive_names_and_recurses() -> None:
    value = {
        "Authorization": "anything",
        "x-fal-key": "k",
        "nested": [{"password": "p", "note": "mail bob@example.org"}],
        "count": 3,
    }

    assert redact_value(value) == {
        "Authorization": "***",
        "x-fal-key": "***",
        "nested": [{"password": "***", "note": "mail ***@example.org"}],
        "count": 3,
    }


def _configured(level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level=level, json=True, stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_time_level_logger_message_and_redacted_extras() -> None:
    stream = _configured()
    log = logging.getLogger("headshot.test")

    log.info(
        "login for %s",
        "alice@example.com",
        extra={"password": "hunter2", "attempt": 2, "header": "Authorization: Bearer x.y"},
    )
    try:
        raise ValueError("bad token=abc123")
    except ValueError:
        log.exception("failed")

    first, second = _lines(stream)
    assert first["level"] == "INFO"
    assert first["logger"] == "headshot.test"
    assert first["message"] == "login for ***@example.com"
    assert first["time"].endswith("+00:00")
    assert first["request_id"] is None
    assert first["password"] == "***"
    assert first["attempt"] == 2
    assert first["header"] == "Authorization: ***"
    assert "abc123" not in second["exc"]
    assert "ValueError" in second["exc"]


@pytest.mark.usefixtures("restore_logging")
def test_configuring_twice_replaces_our_handler_and_keeps_others() -> None:
    root = logging.getLogger()
    others = list(root.handlers)
    _configured()
    stream = _configured("WARNING")

    logging.getLogger("headshot.test").info("hidden")
    logging.getLogger("headshot.test").warning("shown")

    assert [line["message"] for line in _lines(stream)] == ["shown"]
    assert len([h for h in root.handlers if h not in others]) == 1


@pytest.mark.usefixtures("restore_logging")
def test_plain_text_mode_is_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json=False, stream=stream)

    logging.getLogger("headshot.test").info("password=hunter2")

    assert "hunter2" not in stream.getvalue()
    assert "INFO" in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_access_log_names_the_request_without_its_query_and_uvicorns_is_off() -> None:
    stream = _configured()

    get(tiny_app(), "/api/v1/things/42?token=SECRET", headers={"X-Request-ID": "req-1"})
    get(tiny_app(), "/s/share-token-123")

    lines = _lines(stream)
    access = [line for line in lines if line["logger"] == "headshot.access"]
    assert [a["message"].split()[:3] for a in access] == [
        ["GET", "/api/v1/things/42", "200"],
        ["GET", "/s/***", "404"],
    ]
    assert access[0]["request_id"] == "req-1"
    assert access[0]["http_route"] == "/api/v1/things/{thing_id}"
    assert "SECRET" not in json.dumps(lines)
    app_line = next(line for line in lines if line["logger"] == "tests.infra.app")
    assert app_line["request_id"] == "req-1"  # bound in the threadpool too
    assert logging.getLogger("uvicorn.access").disabled
