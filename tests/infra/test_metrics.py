"""Prometheus metrics: own registry per app, route-template labels, product metric hook."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from headshot.observability import METRICS_CONTENT_TYPE, Metrics
from headshot.observability.metrics import MetricKindError
from tests.infra.apps import get, tiny_app


def _requests(metrics: Metrics, route: str, status: str, method: str = "GET") -> float | None:
    return metrics.registry.get_sample_value(
        "headshot_http_requests_total", {"method": method, "route": route, "status": status}
    )


def test_requests_are_counted_by_route_template_not_raw_path() -> None:
    metrics = Metrics()
    app = tiny_app(metrics)

    for thing in ("a1", "b2", "c3"):
        get(app, f"/api/v1/things/{thing}")
    get(app, "/no/such/123")
    get(app, "/api/v1/boom")

    assert _requests(metrics, "/api/v1/things/{thing_id}", "200") == 3
    assert _requests(metrics, "<unmatched>", "404") == 1
    assert _requests(metrics, "/api/v1/boom", "500") == 1
    latency = metrics.registry.get_sample_value(
        "headshot_http_request_duration_seconds_count",
        {"method": "GET", "route": "/api/v1/things/{thing_id}", "status": "200"},
    )
    assert latency == 3
    text = metrics.exposition().decode()
    assert "a1" not in text and "b2" not in text


def test_metrics_endpoint_serves_the_exposition() -> None:
    metrics = Metrics()
    app = tiny_app(metrics)
    get(app, "/healthz")

    response = get(app, "/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"] == METRICS_CONTENT_TYPE
    assert 'headshot_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in (
        response.text
    )


def test_several_apps_in_one_process_do_not_share_or_touch_the_global_registry() -> None:
    first, second = Metrics(), Metrics()
    get(tiny_app(first), "/healthz")

    assert _requests(first, "/healthz", "200") == 1
    assert _requests(second, "/healthz", "200") is None
    assert REGISTRY.get_sample_value("headshot_http_requests_total") is None


def test_product_metrics_are_created_once_and_shared() -> None:
    metrics = Metrics()

    validated = metrics.counter("photos_validated", "Photos validated.", labels=("outcome",))
    validated.labels(outcome="accepted").inc()
    again = metrics.counter("photos_validated", "Photos validated.", labels=("outcome",))
    again.labels(outcome="accepted").inc()
    metrics.histogram("training_seconds", "Training time.", buckets=(60, 600)).observe(120)
    metrics.gauge("queue_depth", "Jobs waiting.").set(4)

    assert again is validated
    sample = metrics.registry.get_sample_value
    assert sample("headshot_photos_validated_total", {"outcome": "accepted"}) == 2
    assert sample("headshot_training_seconds_bucket", {"le": "600.0"}) == 1
    assert sample("headshot_queue_depth") == 4
    with pytest.raises(MetricKindError):
        metrics.histogram("photos_validated", "clash")
    with pytest.raises(MetricKindError):
        metrics.counter("photos_validated", "clash", labels=("other",))
