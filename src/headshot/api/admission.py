"""Admission control for photo uploads.

Photo checks are CPU-bound: running more of them at once than there are cores only adds latency.
So checks run in `workers` long-lived threads of their own, apart from the default thread pool
that light requests such as readiness, gallery and status keep to themselves. Always the same
few threads also bounds memory: each thread that decodes photos keeps a malloc arena with tens
of MB of freed image buffers, and the default pool's 40 threads would each grow one. At most
`queue` more uploads wait for a check thread, and only while the wait they would face, from the
recent checks' running average, stays under `max_wait_s`: a person's photo is answered within
about two seconds or refused at once, never left queued behind a crowd.

Uploads share two server-wide byte budgets. Memory (`max_bytes`): the files kept in memory while
they arrive (each up to the spool's memory limit, plus the unsealed tail of spooled ones), and,
while an upload is checked, those plus its largest spooled file, which is read back whole (one
file at a time per upload). Disk (`max_spool_bytes`): the encrypted spool files, with the size an
upload declares (`Content-Length`) reserved when it is let in. An upload beyond any bound is
answered at once with 503 and `Retry-After`; the web app's queue keeps the photo and tries again.

The counters are only touched from the event loop (one thread), so they need no lock.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from headshot.domain.errors import ServerBusyError
from headshot.observability.memory import release_free_memory

T = TypeVar("T")
_FIRST_GUESS_S = 0.5  # a check of one phone photo on one core, until checks are measured
_SMOOTHING = 0.2  # weight of the newest check in the running average
BUSY = "Many photos are being checked right now. Yours will be sent again in a moment."


class UploadAdmission:
    def __init__(
        self,
        *,
        workers: int,
        queue: int,
        max_bytes: int,
        max_spool_bytes: int,
        retry_after_s: int,
        max_wait_s: float = 1.5,
    ) -> None:
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="photo-check")
        self._workers = workers
        self._capacity = workers + queue
        self._max_wait_s = max_wait_s
        self.check_s = _FIRST_GUESS_S  # running average of one upload's check
        self._max_bytes = max_bytes
        self._max_spool_bytes = max_spool_bytes
        self._retry_after_s = retry_after_s
        self.admitted = 0
        self.held_bytes = 0  # in memory
        self.spooled_bytes = 0  # on disk

    @contextmanager
    def admit(self, declared_bytes: int) -> Iterator[UploadTicket]:
        """Let one upload in (raises `ServerBusyError` when full) until the block ends."""
        if self.admitted >= self._capacity or self.expected_wait_s() > self._max_wait_s:
            raise self.busy()
        ticket = UploadTicket(self, reserved_disk=declared_bytes)
        self.admitted += 1
        try:
            ticket.hold(memory=0, disk=0)
            yield ticket
        finally:
            self.admitted -= 1
            self.held_bytes -= ticket.memory
            self.spooled_bytes -= ticket.disk

    def expected_wait_s(self) -> float:
        """How long one more upload would wait for a check thread, from the recent checks."""
        ahead = self.admitted + 1 - self._workers
        return max(0, ahead) * self.check_s / self._workers

    def busy(self) -> ServerBusyError:
        return ServerBusyError(BUSY, retry_after_s=self._retry_after_s)

    def move_memory(self, ticket: UploadTicket, total: int) -> None:
        """Set the ticket's memory hold to `total` bytes, or raise `ServerBusyError`."""
        self.held_bytes += self._fit(self.held_bytes, ticket.memory, total, self._max_bytes)
        ticket.memory = total

    def move_disk(self, ticket: UploadTicket, total: int) -> None:
        """Set the ticket's disk hold to `total` bytes, or raise `ServerBusyError`."""
        self.spooled_bytes += self._fit(
            self.spooled_bytes, ticket.disk, total, self._max_spool_bytes
        )
        ticket.disk = total

    def _fit(self, held: int, mine: int, total: int, limit: int) -> int:
        extra = total - mine
        # One upload alone is always let in: the per-request limits bound it already.
        if extra > 0 and held > mine and held + extra > limit:
            raise self.busy()
        return extra

    async def check(self, work: Callable[[], T]) -> T:
        """Run a photo check in one of the check threads (with the request's log context)."""
        context = contextvars.copy_context()
        started = time.monotonic()
        try:
            return await asyncio.wrap_future(self._threads.submit(context.run, _releasing, work))
        finally:
            took = time.monotonic() - started
            self.check_s += _SMOOTHING * (took - self.check_s)

    def close(self) -> None:
        """Let the check threads end once their work is done."""
        self._threads.shutdown(wait=False)


def _releasing(work: Callable[[], T]) -> T:
    try:
        return work()
    finally:
        release_free_memory()  # a check's decoded images are gone: give the pages back


class UploadTicket:
    """One admitted upload: how many of its bytes it holds in memory and on disk."""

    def __init__(self, admission: UploadAdmission, *, reserved_disk: int) -> None:
        self._admission = admission
        self._reserved_disk = reserved_disk
        self.memory = 0
        self.disk = 0

    def hold(self, memory: int, disk: int) -> None:
        """Count the upload's bytes in memory and spooled now (raises `ServerBusyError` over a
        budget). The disk hold never drops below what the upload declared."""
        self._admission.move_memory(self, memory)
        self._admission.move_disk(self, max(disk, self._reserved_disk))
