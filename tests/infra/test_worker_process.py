"""`run_worker` in a real process on Redis: runs tasks, stops cleanly on SIGTERM, and (Huey's
trap) loses a task when SIGKILLed mid-task, which `requeue_stale` recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headshot.jobs import requeue_stale
from tests.infra.conftest import wait_until
from tests.infra.worker_app import declare_tasks

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.redis, pytest.mark.slow]

StartWorker = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(redis_url: str, huey_name: str, tmp_path: Path) -> Iterator[StartWorker]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.infra.worker_app", redis_url, huey_name, str(tmp_path)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def _logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(tmp_path.glob("worker-*.log")))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_worker_runs_tasks_and_finishes_the_running_one_when_asked_to_stop(
    start_worker: StartWorker, redis_huey: Any, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    declared = declare_tasks()
    bound = declared.registry.bind(redis_huey, tmp_path)
    worker = start_worker()

    bound[declared.touch]("first")
    wait_until(lambda: (tmp_path / "first").exists(), timeout=20)
    bound[declared.slow]("long", 1.5)
    wait_until(lambda: (tmp_path / "long.started").exists())
    worker.send_signal(stop_signal)

    assert worker.wait(15) == 0, _logs(tmp_path)
    assert (tmp_path / "long.done").exists()
    assert redis_huey.pending_count() == 0
    assert "Traceback" not in _logs(tmp_path)


def test_sigkill_mid_task_loses_it_until_the_stale_sweep_enqueues_it_again(
    start_worker: StartWorker, redis_huey: Any, tmp_path: Path
) -> None:
    declared = declare_tasks()
    bound = declared.registry.bind(redis_huey, tmp_path)
    worker = start_worker()
    bound[declared.slow]("job", 30)
    wait_until(lambda: (tmp_path / "job.started").exists(), timeout=20)

    worker.kill()
    worker.wait(10)

    # Huey's trap: the task left the queue when the worker took it, and nothing puts it back.
    assert redis_huey.pending_count() == 0
    assert redis_huey.scheduled_count() == 0
    assert not (tmp_path / "job.done").exists()

    # The recovery: the source of truth (here the marker files) names the job in progress.
    def find_stale(cutoff: datetime) -> list[str]:
        del cutoff  # marker files have no age worth checking here
        return [p.name.removesuffix(".started") for p in tmp_path.glob("*.started")]

    requeued = requeue_stale(
        find_stale=find_stale,
        enqueue=lambda name: bound[declared.slow](name, 0.1),
        older_than=timedelta(minutes=5),
        clock=lambda: datetime.now(UTC),
    )
    start_worker()

    assert requeued == ["job"]
    wait_until(lambda: (tmp_path / "job.done").exists(), timeout=20)
