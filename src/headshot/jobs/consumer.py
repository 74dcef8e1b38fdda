"""Running Huey's consumer: in background threads of the web server, or as `headshot worker`.

Huey's `Consumer.run()` is a main-thread loop that installs signal handlers (which raises
`ValueError` off the main thread, and would steal SIGTERM from Uvicorn). `InProcessConsumer`
therefore uses `Consumer.start()` with signal installation switched off, supervises the worker
threads itself, and stops through `Consumer.stop()`.

Threads cannot be interrupted: a task still running when a stop gives up keeps running until
the process exits, and is then lost. Such tasks are re-enqueued (Huey reports them through
`SIGNAL_INTERRUPTED`), so they run again elsewhere; tasks must be idempotent anyway.

In the web server, job threads share the cores with requests. A training is many seconds of CPU
nobody watches, a photo check is a second somebody waits for, so on Linux each job thread lowers
its own scheduling priority (`niceness`) when it starts and the cores go to requests first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

from huey import signals as huey_signals
from huey.consumer import Consumer

log = logging.getLogger(__name__)


class _ThreadedConsumer(Consumer):  # type: ignore[misc]  # huey ships no types
    def _set_signal_handlers(self) -> None:
        # The host process (Uvicorn) owns signals; stopping goes through `stop()`.
        pass


def _requeue_interrupted(huey: Any) -> Any:
    def requeue(signal_name: str, task: Any, *args: object, **kwargs: object) -> None:
        del signal_name, args, kwargs
        log.warning("re-enqueueing interrupted task %s", task.id, extra={"task_id": task.id})
        task.eta = None
        huey.enqueue(task)

    huey.signal(huey_signals.SIGNAL_INTERRUPTED)(requeue)
    return requeue


_LOWER_PRIORITY_HOOK = "headshot-lower-job-thread-priority"


def _lower_thread_priority(niceness: int) -> None:
    """Make the calling thread `niceness` steps nicer (Linux: a thread id names one thread)."""
    if sys.platform != "linux" or niceness == 0:
        return  # elsewhere PRIO_PROCESS would slow the whole server, requests included
    thread = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + niceness))
    except OSError as error:
        log.warning("job thread priority left as it is: %s", error.strerror)


def _consumer_options(*, workers: int, periodic: bool, max_poll_delay: float) -> dict[str, Any]:
    return {
        "workers": workers,
        "worker_type": "thread",
        "periodic": periodic,
        # SQLite is polled: cap the idle back-off so a new job starts within a second or so.
        "initial_delay": 0.05,
        "max_delay": max_poll_delay,
        "check_worker_health": True,
    }


class InProcessConsumer:
    """Huey's consumer in daemon threads of the current process; `start()` then `stop()`."""

    def __init__(
        self,
        huey: Any,
        *,
        workers: int,
        periodic: bool = True,
        max_poll_delay: float = 1.0,
        health_check_s: float = 10.0,
        niceness: int = 0,
    ) -> None:
        self.huey = huey
        self._niceness = niceness
        self._options = _consumer_options(
            workers=workers, periodic=periodic, max_poll_delay=max_poll_delay
        )
        self._health_check_s = health_check_s
        self._consumer: Any = None
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._requeue: Any = None

    @property
    def running(self) -> bool:
        return self._consumer is not None

    def start(self) -> None:
        if self._consumer is not None:
            raise RuntimeError("consumer already started")
        self._stopping.clear()
        self._requeue = _requeue_interrupted(self.huey)
        niceness = self._niceness
        # Huey calls startup hooks in each worker thread as it starts, before its first task.
        self.huey.on_startup(_LOWER_PRIORITY_HOOK)(lambda: _lower_thread_priority(niceness))
        self._consumer = _ThreadedConsumer(self.huey, **self._options)
        self._consumer.start()
        self._supervisor = threading.Thread(
            target=self._supervise, name="huey-supervisor", daemon=True
        )
        self._supervisor.start()

    def _supervise(self) -> None:
        # What `Consumer.run()` does in its main loop: replace worker threads that died.
        while not self._stopping.wait(self._health_check_s):
            try:
                self._consumer.check_worker_health()
            except Exception:
                log.exception("huey worker health check failed")

    def stop(self, graceful: bool = True, *, timeout: float = 20.0) -> bool:
        """Stop taking tasks; if `graceful`, wait up to `timeout` s for running ones.

        Returns whether every thread has finished. Tasks still running are re-enqueued.
        """
        consumer = self._consumer
        if consumer is None:
            return True
        self._stopping.set()
        consumer.shutdown_timeout = timeout
        consumer.stop(graceful=graceful)
        threads = [t for _, t in consumer.worker_threads] + [consumer.scheduler]
        finished = not any(t.is_alive() for t in threads)
        if not finished:
            self.huey.notify_interrupted_tasks()
        self.huey.disconnect_signal(self._requeue, huey_signals.SIGNAL_INTERRUPTED)
        self.huey.unregister_on_startup(_LOWER_PRIORITY_HOOK)
        if self._supervisor is not None:
            self._supervisor.join()
        self._consumer = self._supervisor = None
        return finished


def run_worker(
    huey: Any, *, workers: int, periodic: bool = True, shutdown_timeout: float = 20.0
) -> None:
    """Consume until SIGTERM or SIGINT (blocking; main thread only).

    Either signal stops gracefully: no new tasks, running ones get `shutdown_timeout` s, and
    those still running then are re-enqueued. A second signal stops at once. Keep the
    orchestrator's grace period (compose `stop_grace_period`) above `shutdown_timeout`.
    """
    consumer = huey.create_consumer(
        **_consumer_options(workers=workers, periodic=periodic, max_poll_delay=1.0),
        shutdown_timeout=shutdown_timeout,
        graceful_signal="TERM",
    )
    # Huey makes only one of SIGINT/SIGTERM graceful; Ctrl-C deserves the same care.
    consumer._signal_actions[signal.SIGINT] = (False, True)
    requeue = _requeue_interrupted(huey)
    try:
        consumer.run()
    finally:
        huey.disconnect_signal(requeue, huey_signals.SIGNAL_INTERRUPTED)
