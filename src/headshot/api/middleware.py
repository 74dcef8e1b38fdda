"""Pure-ASGI middleware: security headers and request ids (no BaseHTTPMiddleware, which
buffers streaming responses such as SSE and breaks contextvars).

`wrap_http_middleware` puts them in the order they must run, outermost first:
request id (so every later log line names it) → metrics and access log → security headers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headshot.observability.asgi import HttpMetricsMiddleware
from headshot.observability.context import bind_request_id, reset_request_id
from headshot.observability.metrics import Metrics

DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
REQUEST_ID_HEADER = "x-request-id"
# Honour a caller's id only when it cannot smuggle anything into logs or headers.
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def security_headers(*, csp: str = DEFAULT_CSP, hsts: bool = True) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": csp,
        "Permissions-Policy": "camera=(self), geolocation=(), microphone=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response, and `Cache-Control: no-store` under the
    given prefixes. A header the app already set wins, so a route can loosen one on purpose
    (e.g. a cacheable image)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str = DEFAULT_CSP,
        hsts: bool = True,
        no_store_prefixes: Sequence[str] = ("/api/",),
    ) -> None:
        self.app = app
        self.headers: Mapping[str, str] = security_headers(csp=csp, hsts=hsts)
        self.no_store_prefixes = tuple(no_store_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = str(scope.get("path", "")).startswith(self.no_store_prefixes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if no_store:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def request_id_from(scope: Scope) -> str:
    """The caller's `X-Request-ID` when well-formed, else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = bytes(value).decode("latin-1")
            if _REQUEST_ID_SHAPE.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds a request id into the logging context, `scope["state"]["request_id"]` (so
    `request.state.request_id` works) and the `X-Request-ID` response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        token = bind_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


def wrap_http_middleware(
    app: ASGIApp, *, metrics: Metrics, csp: str = DEFAULT_CSP, hsts: bool = True
) -> ASGIApp:
    """`app` inside the standard stack: serve what this returns.

    Wrapping from outside covers every response, including the 500 that Starlette's
    `ServerErrorMiddleware` (always outermost inside a Starlette app) sends for an unhandled
    exception; `add_http_middleware` cannot reach that one.
    """
    inner = SecurityHeadersMiddleware(app, csp=csp, hsts=hsts)
    return RequestIdMiddleware(HttpMetricsMiddleware(inner, metrics=metrics))


def add_http_middleware(
    app: Starlette, *, metrics: Metrics, csp: str = DEFAULT_CSP, hsts: bool = True
) -> None:
    """The same stack added inside `app` (last added runs outermost). Responses to unhandled
    exceptions miss the headers; prefer `wrap_http_middleware` for serving."""
    app.add_middleware(SecurityHeadersMiddleware, csp=csp, hsts=hsts)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
