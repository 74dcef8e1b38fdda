"""Recovering jobs whose task was lost.

Huey removes a task from the queue when a worker takes it. If that worker is SIGKILLed (OOM
killer, `docker kill`, power loss) the task is gone: nothing re-enqueues it. The database row is
the source of truth, so a maintenance callback asks it for jobs that claim to be in progress
but have not been touched for longer than any task should take, and enqueues them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

log = logging.getLogger(__name__)


def requeue_stale(
    *,
    find_stale: Callable[[datetime], Iterable[str]],
    enqueue: Callable[[str], object],
    older_than: timedelta,
    clock: Callable[[], datetime],
    touch: Callable[[str], object] | None = None,
) -> list[str]:
    """Enqueue again every job id `find_stale(cutoff)` returns; return the ids enqueued.

    `cutoff` is `clock() - older_than`: rows in progress and last updated before it are stale.
    `touch(id)`, when given, runs first so the next tick does not enqueue the same job again
    while it waits in the queue. One failing id is logged and does not stop the others.
    """
    cutoff = clock() - older_than
    requeued: list[str] = []
    for job_id in find_stale(cutoff):
        try:
            if touch is not None:
                touch(job_id)
            enqueue(job_id)
        except Exception:
            log.exception("could not re-enqueue stale job %s", job_id, extra={"job_id": job_id})
            continue
        requeued.append(job_id)
    if requeued:
        log.warning("re-enqueued %d stale jobs", len(requeued), extra={"job_ids": requeued})
    return requeued
