"""A `headshot worker`-like process for the subprocess tests.

    python -m tests.infra.worker_app REDIS_URL HUEY_NAME OUT_DIR

Tasks leave marker files in OUT_DIR (the "database" of these tests).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from headshot.jobs import TaskRef, TaskRegistry, make_huey, run_worker
from headshot.observability import configure_logging


@dataclass(frozen=True)
class WorkerTasks:
    registry: TaskRegistry[Path]
    touch: TaskRef[Path, [str]]
    slow: TaskRef[Path, [str, float]]


def declare_tasks() -> WorkerTasks:
    jobs = TaskRegistry[Path](namespace="tests.worker")

    @jobs.task()
    def touch(out: Path, name: str) -> None:
        (out / name).write_text("done")

    @jobs.task()
    def slow(out: Path, name: str, seconds: float) -> None:
        (out / f"{name}.started").write_text("")
        time.sleep(seconds)
        (out / f"{name}.done").write_text("")

    return WorkerTasks(jobs, touch, slow)


def main(redis_url: str, huey_name: str, out_dir: str) -> None:
    configure_logging(level="INFO", json=True)
    huey = make_huey(name=huey_name, data_dir=Path(out_dir), redis_url=redis_url)
    declare_tasks().registry.bind(huey, Path(out_dir))
    run_worker(huey, workers=2, periodic=False, shutdown_timeout=10)


if __name__ == "__main__":
    main(*sys.argv[1:4])
