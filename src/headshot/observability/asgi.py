"""Pure-ASGI middleware that records request metrics and writes our access log line.

Labels use the route template (`/api/v1/photos/{photo_id}`), never the raw path, so ids do not
become label values; unmatched paths share one label. The access log names the path without
its query string (tokens live there) and with share tokens masked.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headshot.observability.metrics import Metrics
from headshot.observability.redaction import redact

UNMATCHED_ROUTE = "<unmatched>"

access_log = logging.getLogger("headshot.access")


def route_template(scope: Scope) -> str:
    """The template of the route that served `scope`, or `<unmatched>`.

    Starlette's router records the matched route in the scope; a mount contributes its prefix.
    """
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class HttpMetricsMiddleware:
    """Counts requests and their latency by method, route template and status; logs each one."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client sees if the app raises before starting a response

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            self._record(scope, status=status, seconds=time.perf_counter() - start)

    def _record(self, scope: Scope, *, status: int, seconds: float) -> None:
        method = str(scope.get("method", "GET"))
        route = route_template(scope)
        self.metrics.observe_request(method=method, route=route, status=status, seconds=seconds)
        if self.log_requests:
            path = redact(str(scope.get("path", "")))
            access_log.info(
                "%s %s %d %.1fms",
                method,
                path,
                status,
                seconds * 1000,
                extra={
                    "http_method": method,
                    "http_path": path,
                    "http_route": route,
                    "http_status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
