"""Product metrics read from the records at the moment they are asked for (R7.1): outcomes of
trainings and generations, queue wait and run time, photo processing latency, active jobs,
spend, and retention after a person's first generation. Nothing is counted in memory, so every
server answers the same figures whatever process did the work.

Figures cover jobs and photos created in the last `WINDOW_DAYS` days. A failed job counts as
`failed_provider` when the provider had accepted its request (it has a provider request id),
else as `failed_ours` (R6.3 counts only those)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from headshot.domain.jobs import TERMINAL
from headshot.settings import QuotaSettings
from headshot.storage.db import Database
from headshot.storage.records import AuditEntry, DailySpend, Generation, Photo, Training

WINDOW_DAYS = 30
RETENTION_DAYS = (7, 30)
# Activity on the day of the first generation is that same visit, not a return.
RETURN_AFTER = timedelta(hours=24)
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
DURATION_BUCKETS = (1.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
OUTCOMES = ("succeeded", "failed_ours", "failed_provider", "cancelled")
JobKind = Literal["training", "generation"]


@dataclass(frozen=True)
class Distribution:
    """Observed values with Prometheus-style cumulative bucket counts."""

    values: tuple[float, ...]
    buckets: tuple[float, ...]

    def cumulative(self) -> list[tuple[str, int]]:
        counts = [(str(b), sum(1 for v in self.values if v <= b)) for b in self.buckets]
        return [*counts, ("+Inf", len(self.values))]

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile; None without values."""
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Retention:
    days: int
    cohort: int  # people whose first generation is at least `days` days old
    returned: int  # of them, those who came back within `days` days

    @property
    def rate(self) -> float | None:
        return self.returned / self.cohort if self.cohort else None


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    threshold: float
    comparison: Literal["<", ">"]
    unit: str

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return (
            self.value < self.threshold if self.comparison == "<" else self.value > self.threshold
        )


@dataclass(frozen=True)
class ProductSnapshot:
    outcomes: dict[JobKind, dict[str, int]]
    active: dict[JobKind, dict[str, int]]
    run_time: dict[JobKind, Distribution]
    queue_wait: dict[JobKind, Distribution]
    photo_latency: Distribution
    spend_today_usd: float
    spend_cap_usd: float
    retention: tuple[Retention, ...]

    @property
    def training_failure_rate(self) -> float | None:
        """Failures our side could have prevented, over finished trainings (R6.3)."""
        counts = self.outcomes["training"]
        finished = counts["succeeded"] + counts["failed_ours"] + counts["failed_provider"]
        return counts["failed_ours"] / finished if finished else None

    def targets(self) -> tuple[Target, ...]:
        """The seed's three success metrics against their thresholds."""
        month = next(r for r in self.retention if r.days == 30)
        return (
            Target("training_failure_rate", self.training_failure_rate, 0.03, "<", "ratio"),
            Target("photo_processing_p95_s", self.photo_latency.quantile(0.95), 2.0, "<", "s"),
            Target("retention_30d_after_first_generation", month.rate, 0.85, ">", "ratio"),
        )


class ProductStats:
    def __init__(
        self, *, db: Database, limits: QuotaSettings, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._limits = limits
        self._clock = clock

    def snapshot(self) -> ProductSnapshot:
        now = self._clock()
        since = now - timedelta(days=WINDOW_DAYS)
        with self._db.transaction() as db:
            spend = db.get(DailySpend, now.date().isoformat())
            return ProductSnapshot(
                outcomes={
                    "training": _training_outcomes(db, since),
                    "generation": _generation_outcomes(db, since),
                },
                active={"training": _active(db, Training), "generation": _active(db, Generation)},
                run_time={
                    "training": _timings(db, Training, since, run=True),
                    "generation": _timings(db, Generation, since, run=True),
                },
                queue_wait={
                    "training": _timings(db, Training, since, run=False),
                    "generation": _timings(db, Generation, since, run=False),
                },
                photo_latency=_photo_latency(db, since),
                spend_today_usd=(spend.spent_micro_usd if spend else 0) / 1_000_000,
                spend_cap_usd=self._limits.daily_spend_cap_usd,
                retention=tuple(_retention(db, now, days) for days in RETENTION_DAYS),
            )


def _training_outcomes(db: Session, since: datetime) -> dict[str, int]:
    reached_provider = Training.provider_request_id.is_not(None)
    rows = db.execute(
        select(Training.status, reached_provider, func.count())
        .where(Training.created_at >= since, Training.status.in_(TERMINAL))
        .group_by(Training.status, reached_provider)
    )
    return _tally((status, bool(provider), int(n)) for status, provider, n in rows)


def _generation_outcomes(db: Session, since: datetime) -> dict[str, int]:
    rows = db.execute(
        select(Generation.status, Generation.provider_request_ids).where(
            Generation.created_at >= since, Generation.status.in_(TERMINAL)
        )
    )
    return _tally((status, bool(requests), 1) for status, requests in rows)


def _tally(rows: Iterable[tuple[str, bool, int]]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for status, reached_provider, n in rows:
        if status == "failed":
            status = "failed_provider" if reached_provider else "failed_ours"
        counts[status] += n
    return counts


def _active(db: Session, table: type[Training] | type[Generation]) -> dict[str, int]:
    rows = db.execute(
        select(table.status, func.count())
        .where(table.status.not_in(TERMINAL))
        .group_by(table.status)
    )
    return {status: int(n) for status, n in rows}


def _timings(
    db: Session, table: type[Training] | type[Generation], since: datetime, *, run: bool
) -> Distribution:
    rows = db.execute(
        select(table.created_at, table.started_at, table.finished_at).where(
            table.created_at >= since, table.started_at.is_not(None)
        )
    )
    values: list[float] = []
    for created, started, finished in rows:
        assert started is not None  # filtered in the query
        if run and finished is not None:
            values.append((finished - started).total_seconds())
        elif not run:
            values.append((started - created).total_seconds())
    return Distribution(tuple(max(0.0, v) for v in values), DURATION_BUCKETS)


def _photo_latency(db: Session, since: datetime) -> Distribution:
    query = select(Photo.processing_s).where(
        Photo.created_at >= since, Photo.processing_s.is_not(None)
    )
    return Distribution(tuple(v for v in db.scalars(query) if v is not None), LATENCY_BUCKETS)


def _retention(db: Session, now: datetime, days: int) -> Retention:
    firsts = db.execute(
        select(Generation.user_id, func.min(Generation.created_at)).group_by(Generation.user_id)
    ).all()
    cohort = [(user, first) for user, first in firsts if first <= now - timedelta(days=days)]
    returned = sum(1 for user, first in cohort if _came_back(db, user, first, days))
    return Retention(days=days, cohort=len(cohort), returned=returned)


def _came_back(db: Session, user_id: str, first: datetime, days: int) -> bool:
    query = select(
        exists().where(
            AuditEntry.subject_user_id == user_id,
            AuditEntry.actor == "user",
            AuditEntry.at > first + RETURN_AFTER,
            AuditEntry.at <= first + timedelta(days=days),
        )
    )
    return bool(db.scalar(query))


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def describe(targets: Sequence[Target]) -> list[tuple[str, str, str, str]]:
    """Rows of (metric, value, target, verdict) for people to read."""
    rows = []
    for target in targets:
        shown = percent(target.value) if target.unit == "ratio" else _seconds(target.value)
        limit = percent(target.threshold) if target.unit == "ratio" else _seconds(target.threshold)
        verdict = {True: "met", False: "missed", None: "no data yet"}[target.met]
        rows.append((target.name, shown, f"{target.comparison} {limit}", verdict))
    return rows


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"
