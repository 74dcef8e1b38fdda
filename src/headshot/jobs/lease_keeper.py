"""The lease heartbeat: one thread per process that runs job steps.

Every `every_s` it renews the leases this process holds and enqueues again the jobs whose
holder died (their lease expired; see `services.job_leases`). Huey's periodic tasks fire at
most once a minute, too slow for a lease of seconds, hence a thread of its own. It runs in
`headshot worker` and in a server with its in-process worker, beside Huey's consumer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from headshot.services.job_leases import JobLeases

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(
        self,
        leases: JobLeases,
        *,
        enqueue: Mapping[str, Callable[[str], object]],
        every_s: float,
    ) -> None:
        self._leases = leases
        self._enqueue = enqueue
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("lease keeper already started")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        thread.join(timeout=10)
        self._thread = None

    def tick(self) -> list[str]:
        """Renew, then enqueue again the jobs whose holder died; returns their ids."""
        self._leases.renew()
        resumed: list[str] = []
        for lease in self._leases.reclaim_expired():
            enqueue = self._enqueue.get(lease.kind)
            if enqueue is None:
                log.error(
                    "lease of unknown job kind %s", lease.kind, extra={"job_id": lease.job_id}
                )
                continue
            try:
                enqueue(lease.job_id)
            except Exception:  # the stale-job check is the net under this one
                log.exception("could not resume a job", extra={"job_id": lease.job_id})
                continue
            resumed.append(lease.job_id)
        if resumed:
            log.warning(
                "resumed %d jobs whose worker died", len(resumed), extra={"job_ids": resumed}
            )
        return resumed

    def _loop(self) -> None:
        while not self._stopping.wait(self._every_s):
            try:
                self.tick()
            except Exception:  # a database hiccup: the next tick tries again
                log.exception("lease heartbeat failed")
