"""A Prometheus collector of the product metrics: it reads a fresh snapshot from the records
at every scrape, so the figures agree across all server processes and need no counting in the
job code."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from headshot.services.product_metrics import Distribution, ProductSnapshot

log = logging.getLogger(__name__)


class ProductCollector(Collector):
    def __init__(
        self, snapshot: Callable[[], ProductSnapshot], *, namespace: str = "headshot"
    ) -> None:
        self._snapshot = snapshot
        self._prefix = f"{namespace}_"

    def describe(self) -> list[Metric]:
        return []  # nothing to read at registration: the database may not be up yet

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            self._name("product_metrics_up"), "Whether the records could be read."
        )
        try:
            snapshot = self._snapshot()
        except Exception:  # a scrape reports the failure; it never fails the exposition
            log.warning("could not read the product metrics", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._jobs(snapshot)
        yield self._histogram(
            "photo_processing_seconds",
            "Upload received to validation result, per photo (R1.5).",
            {(): snapshot.photo_latency},
            labels=[],
        )
        yield from self._business(snapshot)

    def _jobs(self, snapshot: ProductSnapshot) -> Iterator[Metric]:
        finished = GaugeMetricFamily(
            self._name("jobs_finished"),
            "Jobs created in the window that finished, by outcome.",
            labels=["kind", "outcome"],
        )
        for kind, counts in snapshot.outcomes.items():
            for outcome, count in counts.items():
                finished.add_metric([kind, outcome], count)
        yield finished
        active = GaugeMetricFamily(
            self._name("jobs_active"),
            "Jobs not finished yet, by status (the queue depth).",
            labels=["kind", "status"],
        )
        for kind, by_status in snapshot.active.items():
            for status, count in by_status.items():
                active.add_metric([kind, status], count)
        yield active
        run: dict[tuple[str, ...], Distribution] = {
            (kind,): d for kind, d in snapshot.run_time.items()
        }
        yield self._histogram("job_run_seconds", "Start to finish.", run, labels=["kind"])
        wait: dict[tuple[str, ...], Distribution] = {
            (kind,): d for kind, d in snapshot.queue_wait.items()
        }
        yield self._histogram(
            "job_queue_wait_seconds", "Created to started.", wait, labels=["kind"]
        )

    def _business(self, snapshot: ProductSnapshot) -> Iterator[Metric]:
        rate = snapshot.training_failure_rate
        failure = GaugeMetricFamily(
            self._name("training_failure_rate"),
            "Trainings failed on our side over finished trainings (R6.3; target < 0.03).",
        )
        failure.add_metric([], rate if rate is not None else float("nan"))
        yield failure
        retention = GaugeMetricFamily(
            self._name("retention_after_first_generation"),
            "Share of people who came back within N days of their first generation.",
            labels=["days"],
        )
        cohort = GaugeMetricFamily(
            self._name("retention_cohort"),
            "People whose first generation is at least N days old.",
            labels=["days"],
        )
        for figure in snapshot.retention:
            value = figure.rate if figure.rate is not None else float("nan")
            retention.add_metric([str(figure.days)], value)
            cohort.add_metric([str(figure.days)], figure.cohort)
        yield retention
        yield cohort
        spend = GaugeMetricFamily(
            self._name("provider_spend_today_usd"), "Estimated provider spend this UTC day."
        )
        spend.add_metric([], snapshot.spend_today_usd)
        yield spend
        cap = GaugeMetricFamily(
            self._name("provider_spend_cap_usd"), "Daily provider spend cap (0: none)."
        )
        cap.add_metric([], snapshot.spend_cap_usd)
        yield cap

    def _histogram(
        self,
        name: str,
        documentation: str,
        series: dict[tuple[str, ...], Distribution],
        *,
        labels: list[str],
    ) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self._name(name), documentation, labels=labels)
        for values, distribution in series.items():
            family.add_metric(list(values), distribution.cumulative(), sum(distribution.values))
        return family

    def _name(self, name: str) -> str:
        return self._prefix + name
