"""Background work on Huey. Tasks are declared on a `TaskRegistry` (no module-level Huey),
bound to a Huey made by `make_huey` together with the services they need, and consumed either
in the server process (`InProcessConsumer`) or by `headshot worker` (`run_worker`).

Tasks carry ids only; the database row is the source of truth, so every task must be safe to
run twice (Huey delivers at most once per enqueue, and loses a task whose worker is SIGKILLed:
see `requeue_stale`)."""

from headshot.jobs.consumer import InProcessConsumer, run_worker
from headshot.jobs.queue import close_huey, make_huey
from headshot.jobs.registry import (
    BoundTasks,
    Enqueuer,
    MaintenanceCallback,
    RetryPolicy,
    TaskRef,
    TaskRegistry,
)
from headshot.jobs.stale import requeue_stale

__all__ = [
    "BoundTasks",
    "Enqueuer",
    "InProcessConsumer",
    "MaintenanceCallback",
    "RetryPolicy",
    "TaskRef",
    "TaskRegistry",
    "close_huey",
    "make_huey",
    "requeue_stale",
    "run_worker",
]
