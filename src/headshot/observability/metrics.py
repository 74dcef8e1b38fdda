"""Prometheus metrics. Each `Metrics` owns its registry (never the process-global default), so
several apps can live in one process, as they do in the tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
HTTP_LABELS = ("method", "route", "status")
_M = TypeVar("_M", Counter, Histogram, Gauge)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class MetricKindError(TypeError):
    """A metric name is already registered as a different kind or with other labels."""


class Metrics:
    """HTTP request metrics plus a get-or-create hook for product metrics, in one registry."""

    def __init__(self, *, namespace: str = "headshot") -> None:
        self.namespace = namespace
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, Counter | Histogram | Gauge] = {}
        self.http_requests = self.counter(
            "http_requests", "HTTP requests served.", labels=HTTP_LABELS
        )
        self.http_latency = self.histogram(
            "http_request_duration_seconds",
            "Time to serve an HTTP request.",
            labels=HTTP_LABELS,
            buckets=LATENCY_BUCKETS,
        )

    def counter(self, name: str, documentation: str, *, labels: Sequence[str] = ()) -> Counter:
        """The counter `name` (prefixed with the namespace), created on first use."""
        existing = self._lookup(name, Counter, labels)
        if existing is not None:
            return existing
        return self._remember(name, Counter(name, documentation, **self._common(labels)))

    def histogram(
        self,
        name: str,
        documentation: str,
        *,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        existing = self._lookup(name, Histogram, labels)
        if existing is not None:
            return existing
        metric = Histogram(name, documentation, buckets=tuple(buckets), **self._common(labels))
        return self._remember(name, metric)

    def gauge(self, name: str, documentation: str, *, labels: Sequence[str] = ()) -> Gauge:
        existing = self._lookup(name, Gauge, labels)
        if existing is not None:
            return existing
        return self._remember(name, Gauge(name, documentation, **self._common(labels)))

    def _common(self, labels: Sequence[str]) -> dict[str, Any]:
        return {"labelnames": tuple(labels), "namespace": self.namespace, "registry": self.registry}

    def _lookup(self, name: str, kind: type[_M], labels: Sequence[str]) -> _M | None:
        existing = self._metrics.get(name)
        if existing is None:
            return None
        # Two services asking for the same metric share it; a clash is a programming error.
        if not isinstance(existing, kind) or existing._labelnames != tuple(labels):
            raise MetricKindError(f"metric {name!r} already exists with another shape")
        return existing

    def _remember(self, name: str, metric: _M) -> _M:
        self._metrics[name] = metric
        return metric

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        labels = {"method": method, "route": route, "status": str(status)}
        self.http_requests.labels(**labels).inc()
        self.http_latency.labels(**labels).observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of everything in this registry."""
        return generate_latest(self.registry)


def metrics_response(metrics: Metrics) -> Response:
    """The `GET /metrics` response."""
    return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)
