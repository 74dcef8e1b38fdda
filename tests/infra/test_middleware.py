"""Security headers and request ids on a tiny app (pure ASGI middleware)."""

from __future__ import annotations

import re

import pytest

from headshot.api.middleware import DEFAULT_CSP, SecurityHeadersMiddleware
from tests.infra.apps import get, tiny_app

EXPECTED = {
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": DEFAULT_CSP,
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.mark.parametrize("inside", [False, True], ids=["wrapped", "added"])
@pytest.mark.parametrize("path", ["/healthz", "/api/v1/things/1", "/missing"])
def test_every_response_carries_the_security_headers(path: str, inside: bool) -> None:
    response = get(tiny_app(inside=inside), path)

    assert {k: response.headers.get(k) for k in EXPECTED} == EXPECTED


def test_api_responses_are_not_stored_but_a_route_may_choose_otherwise() -> None:
    app = tiny_app()

    assert get(app, "/api/v1/things/1").headers["cache-control"] == "no-store"
    assert "cache-control" not in get(app, "/healthz").headers
    assert get(app, "/api/v1/cacheable").headers["cache-control"] == "private, max-age=60"


def test_unhandled_error_responses_get_headers_when_wrapped() -> None:
    response = get(tiny_app(), "/api/v1/boom")

    assert response.status_code == 500
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]


def test_added_inside_the_app_the_stack_misses_unhandled_error_responses() -> None:
    # Pins the documented limit of add_http_middleware: ServerErrorMiddleware is outermost.
    response = get(tiny_app(inside=True), "/api/v1/boom")

    assert response.status_code == 500
    assert "x-frame-options" not in response.headers


def test_csp_is_configurable() -> None:
    middleware = SecurityHeadersMiddleware(tiny_app(), csp="default-src 'none'", hsts=False)

    assert middleware.headers["Content-Security-Policy"] == "default-src 'none'"
    assert "Strict-Transport-Security" not in middleware.headers


def test_a_well_formed_request_id_is_honoured_and_reaches_the_route() -> None:
    response = get(tiny_app(), "/api/v1/things/7", headers={"X-Request-ID": "abc-123.DEF"})

    assert response.headers["x-request-id"] == "abc-123.DEF"
    assert response.json()["request_id"] == "abc-123.DEF"


@pytest.mark.parametrize("given", [None, "", "bad id with spaces", "x" * 200, "<script>"])
def test_a_missing_or_malformed_request_id_is_replaced(given: str | None) -> None:
    headers = {"X-Request-ID": given} if given is not None else None

    response = get(tiny_app(), "/api/v1/things/7", headers=headers)

    generated = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert response.json()["request_id"] == generated
