"""Metrics (one Prometheus registry per app), structured JSON logs with redaction, and the
request-id logging context. Nothing is configured at import time: call `configure_logging` and
build a `Metrics` in the wiring."""

from headshot.observability.asgi import HttpMetricsMiddleware, route_template
from headshot.observability.context import bind_request_id, current_request_id, reset_request_id
from headshot.observability.logs import JsonFormatter, configure_logging
from headshot.observability.metrics import METRICS_CONTENT_TYPE, Metrics, metrics_response
from headshot.observability.redaction import RedactionFilter, redact, redact_value

__all__ = [
    "METRICS_CONTENT_TYPE",
    "HttpMetricsMiddleware",
    "JsonFormatter",
    "Metrics",
    "RedactionFilter",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "metrics_response",
    "redact",
    "redact_value",
    "reset_request_id",
    "route_template",
]
