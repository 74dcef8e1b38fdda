"""Huey through our registry and in-process consumer, on SQLite and on Redis."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headshot.jobs import InProcessConsumer, RetryPolicy, TaskRef, TaskRegistry, requeue_stale
from headshot.jobs.registry import MAINTENANCE_TASK
from tests.infra.conftest import wait_until


@dataclass
class Recorder:
    """The context the test tasks receive: what ran, when, and a gate to hold a task open."""

    calls: list[tuple[str, Any, float]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, value: Any = None) -> None:
        with self.lock:
            self.calls.append((name, value, time.monotonic()))

    def values(self, name: str) -> list[Any]:
        with self.lock:
            return [v for n, v, _ in self.calls if n == name]

    def times(self, name: str) -> list[float]:
        with self.lock:
            return [t for n, _, t in self.calls if n == name]


@dataclass
class Tasks:
    registry: TaskRegistry[Recorder]
    echo: TaskRef[Recorder, [str]]
    always_fails: TaskRef[Recorder, []]
    fails_once: TaskRef[Recorder, []]
    backs_off: TaskRef[Recorder, []]
    held: TaskRef[Recorder, []]


def declare_tasks() -> Tasks:
    jobs = TaskRegistry[Recorder](namespace="tests")

    @jobs.task()
    def echo(rec: Recorder, text: str) -> None:
        rec.record("echo", text)

    @jobs.task(retry=RetryPolicy(retries=2))
    def always_fails(rec: Recorder) -> None:
        rec.record("always_fails")
        raise RuntimeError("provider down")

    @jobs.task(retry=RetryPolicy(retries=3))
    def fails_once(rec: Recorder) -> None:
        rec.record("fails_once")
        if len(rec.values("fails_once")) == 1:
            raise RuntimeError("transient")

    @jobs.task(retry=RetryPolicy(retries=2, delay_s=0.3, backoff=3))
    def backs_off(rec: Recorder) -> None:
        rec.record("backs_off")
        raise RuntimeError("still down")

    @jobs.task()
    def held(rec: Recorder) -> None:
        rec.record("held_started")
        rec.gate.wait(10)
        rec.record("held_done")

    return Tasks(jobs, echo, always_fails, fails_once, backs_off, held)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def huey(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_huey")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.gate.set()  # never leave a held task blocking a thread


@pytest.fixture
def consumer(huey: Any) -> Iterator[InProcessConsumer]:
    running = InProcessConsumer(huey, workers=2, max_poll_delay=0.1)
    running.start()
    yield running
    running.stop(timeout=5)


def test_enqueued_task_runs_in_the_in_process_consumer(
    huey: Any, recorder: Recorder, consumer: InProcessConsumer
) -> None:
    tasks = declare_tasks()
    bound = tasks.registry.bind(huey, recorder)

    task_id = bound[tasks.echo]("ph_1")

    wait_until(lambda: recorder.values("echo") == ["ph_1"])
    assert isinstance(task_id, str) and task_id
    assert consumer.running


def test_task_kwargs_named_like_huey_options_reach_the_task(
    huey: Any, recorder: Recorder, consumer: InProcessConsumer
) -> None:
    jobs = TaskRegistry[Recorder](namespace="tests")

    @jobs.task()
    def options(rec: Recorder, id: str, delay: int, timeout: float) -> None:
        rec.record("options", (id, delay, timeout))

    jobs.bind(huey, recorder)[options](id="x", delay=5, timeout=1.5)

    wait_until(lambda: recorder.values("options") == [("x", 5, 1.5)])


def test_later_runs_no_sooner_than_asked(
    huey: Any, recorder: Recorder, consumer: InProcessConsumer
) -> None:
    tasks = declare_tasks()
    bound = tasks.registry.bind(huey, recorder)
    start = time.monotonic()

    bound[tasks.echo].later(0.5)("later")

    wait_until(lambda: recorder.values("echo") == ["later"])
    assert recorder.times("echo")[0] - start >= 0.5


def test_a_failing_task_is_retried_as_configured_then_dropped(
    huey: Any, recorder: Recorder, consumer: InProcessConsumer
) -> None:
    tasks = declare_tasks()
    bound = tasks.registry.bind(huey, recorder)

    bound[tasks.always_fails]()
    bound[tasks.fails_once]()

    wait_until(lambda: len(recorder.values("always_fails")) == 3)
    wait_until(lambda: len(recorder.values("fails_once")) == 2)
    time.sleep(0.5)  # no fourth attempt, no third for the one that recovered
    assert len(recorder.values("always_fails")) == 3
    assert len(recorder.values("fails_once")) == 2


def test_retry_delay_grows_by_the_backoff_factor(
    huey: Any, recorder: Recorder, consumer: InProcessConsumer
) -> None:
    tasks = declare_tasks()
    bound = tasks.registry.bind(huey, recorder)
    task_class = bound.huey_task("backs_off").task_class
    assert (task_class.default_retries, task_class.default_retry_delay) == (2, 0.3)
    assert task_class.default_retry_backoff == 3

    bound[tasks.backs_off]()

    wait_until(lambda: len(recorder.values("backs_off")) == 3, timeout=15)
    first, second, third = recorder.times("backs_off")
    # The scheduler wakes once a second, so delays are at least, not exactly, 0.3 s and 0.9 s.
    assert second - first >= 0.3
    assert third - second >= 0.9


def test_graceful_stop_waits_for_the_running_task(huey: Any, recorder: Recorder) -> None:
    tasks = declare_tasks()
    bound = tasks.registry.bind(huey, recorder)
    consumer = InProcessConsumer(huey, workers=1, periodic=False, max_poll_delay=0.1)
    consumer.start()
    bound[tasks.held]()
    wait_until(lambda: bool(recorder.values("held_started")))

    threading.Timer(0.3, recorder.gate.set).start()
    assert consumer.stop(graceful=True, timeout=5)

    assert recorder.values("held_done") == [None]
    assert huey.pending() == []
    assert not consumer.running


def test_a_task_still_running_when_stop_gives_up_is_enqueued_again(
    huey: Any, recorder: Recorder
) -> None:
    tasks = declare_tasks()
    bound = tasks.registry.bind(huey, recorder)
    consumer = InProcessConsumer(huey, workers=1, periodic=False, max_poll_delay=0.1)
    consumer.start()
    bound[tasks.held]()
    wait_until(lambda: bool(recorder.values("held_started")))

    assert consumer.stop(graceful=True, timeout=0.2) is False

    assert [t.name for t in huey.pending()] == ["held"]  # runs again on the next start
    recorder.gate.set()
    wait_until(lambda: bool(recorder.values("held_done")))


def test_start_twice_is_an_error_and_stop_without_start_is_harmless(sqlite_huey: Any) -> None:
    consumer = InProcessConsumer(sqlite_huey, workers=1)
    assert consumer.stop() is True
    consumer.start()
    try:
        with pytest.raises(RuntimeError):
            consumer.start()
    finally:
        consumer.stop(timeout=5)


def _maintenance_registry(recorder: Recorder) -> TaskRegistry[Recorder]:
    jobs = TaskRegistry[Recorder](namespace="tests")

    @jobs.maintenance("retention")
    def retention(rec: Recorder) -> None:
        rec.record("retention")

    @jobs.maintenance("broken")
    def broken(rec: Recorder) -> None:
        raise RuntimeError("disk full")

    jobs.add_maintenance("replay_offline_queue", lambda rec: rec.record("replay"))
    del recorder
    return jobs


def test_maintenance_runs_every_callback_and_survives_one_raising(
    sqlite_huey: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    bound = _maintenance_registry(recorder).bind(sqlite_huey, recorder)

    outcome = bound.run_maintenance()

    assert outcome == {"retention": True, "broken": False, "replay_offline_queue": True}
    assert recorder.values("retention") == [None]
    assert recorder.values("replay") == [None]
    assert "maintenance callback broken failed" in caplog.text


def test_the_maintenance_tick_is_a_periodic_task_the_consumer_runs(
    huey: Any, recorder: Recorder, consumer: InProcessConsumer
) -> None:
    bound = _maintenance_registry(recorder).bind(huey, recorder, maintenance_every_minutes=5)
    tick = bound.huey_task(MAINTENANCE_TASK)

    due = [t.name for t in huey.read_periodic(datetime(2025, 1, 1, 12, 5))]
    not_due = [t.name for t in huey.read_periodic(datetime(2025, 1, 1, 12, 7))]
    huey.enqueue(tick.s())  # what the scheduler does when the minute comes

    assert MAINTENANCE_TASK in due
    assert MAINTENANCE_TASK not in not_due
    wait_until(lambda: bool(recorder.values("retention")) and bool(recorder.values("replay")))


def test_periodic_tasks_are_declared_with_a_minute_interval(
    sqlite_huey: Any, recorder: Recorder
) -> None:
    jobs = TaskRegistry[Recorder](namespace="tests")

    @jobs.periodic(every_minutes=15)
    def sweep(rec: Recorder) -> None:
        rec.record("sweep")

    bound = jobs.bind(sqlite_huey, recorder)
    bound.huey_task("sweep").call_local()

    assert recorder.values("sweep") == [None]
    names = [t.name for t in sqlite_huey.read_periodic(datetime(2025, 1, 1, 12, 45))]
    assert "sweep" in names
    with pytest.raises(ValueError, match="divide 60"):
        jobs.periodic(every_minutes=7)


def test_names_are_unique_per_registry() -> None:
    jobs = TaskRegistry[Recorder]()

    @jobs.task(name="same")
    def first(rec: Recorder) -> None: ...

    with pytest.raises(ValueError, match="already registered"):
        jobs.task(name="same")(first.func)
    with pytest.raises(ValueError, match="already registered"):
        jobs.task(name=MAINTENANCE_TASK)(first.func)
    jobs.add_maintenance("m", print)
    with pytest.raises(ValueError, match="already registered"):
        jobs.add_maintenance("m", print)


def test_requeue_stale_enqueues_each_stale_job_and_isolates_failures() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    seen_cutoffs: list[datetime] = []
    touched: list[str] = []
    enqueued: list[str] = []

    def find_stale(cutoff: datetime) -> list[str]:
        seen_cutoffs.append(cutoff)
        return ["tr_1", "tr_bad", "tr_2"]

    def enqueue(job_id: str) -> None:
        if job_id == "tr_bad":
            raise ConnectionError("redis down")
        enqueued.append(job_id)

    requeued = requeue_stale(
        find_stale=find_stale,
        enqueue=enqueue,
        older_than=timedelta(minutes=10),
        clock=lambda: now,
        touch=touched.append,
    )

    assert requeued == enqueued == ["tr_1", "tr_2"]
    assert touched == ["tr_1", "tr_bad", "tr_2"]
    assert seen_cutoffs == [now - timedelta(minutes=10)]


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux only")
def test_job_threads_yield_the_cores_to_the_server_threads(
    sqlite_huey: Any, recorder: Recorder
) -> None:
    jobs = TaskRegistry[Recorder](namespace="tests")

    @jobs.task()
    def priority(rec: Recorder) -> None:
        rec.record("priority", os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    consumer = InProcessConsumer(sqlite_huey, workers=1, periodic=False, niceness=3)
    consumer.start()
    try:
        jobs.bind(sqlite_huey, recorder)[priority]()
        wait_until(lambda: bool(recorder.values("priority")))
    finally:
        consumer.stop(timeout=5)

    assert recorder.values("priority") == [min(19, own + 3)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
