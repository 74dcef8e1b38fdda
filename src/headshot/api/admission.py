"""Admission control for photo uploads.

Photo checks are CPU-bound: running more of them at once than there are cores only adds latency.
So checks run in `workers` long-lived threads of their own, apart from the default thread pool
that light requests such as readiness, gallery and status keep to themselves. Always the same
few threads also bounds memory: each thread that decodes photos keeps a malloc arena with tens
of MB of freed image buffers, and the default pool's 40 threads would each grow one. At most
`queue` more uploads wait for a check thread, and the bytes of every upload held in
memory count against one server-wide budget. An upload beyond either bound is answered at once
with 503 and `Retry-After`; the web app's queue keeps the photo and tries again.

The counters are only touched from the event loop (one thread), so they need no lock.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from headshot.domain.errors import ServerBusyError
from headshot.observability.memory import release_free_memory

T = TypeVar("T")
BUSY = "Many photos are being checked right now. Yours will be sent again in a moment."


class UploadAdmission:
    def __init__(self, *, workers: int, queue: int, max_bytes: int, retry_after_s: int) -> None:
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="photo-check")
        self._capacity = workers + queue
        self._max_bytes = max_bytes
        self._retry_after_s = retry_after_s
        self.admitted = 0
        self.held_bytes = 0

    @contextmanager
    def admit(self, declared_bytes: int) -> Iterator[UploadTicket]:
        """Let one upload in (raises `ServerBusyError` when full) until the block ends."""
        if self.admitted >= self._capacity:
            raise self.busy()
        ticket = UploadTicket(self)
        self.admitted += 1
        try:
            ticket.hold(declared_bytes)
            yield ticket
        finally:
            self.admitted -= 1
            self.held_bytes -= ticket.held

    def busy(self) -> ServerBusyError:
        return ServerBusyError(BUSY, retry_after_s=self._retry_after_s)

    def grow(self, ticket: UploadTicket, total: int) -> None:
        """Raise the ticket's hold to `total` bytes, or raise `ServerBusyError`."""
        extra = total - ticket.held
        if extra <= 0:
            return
        # One upload alone is always let in: the per-request limit bounds it already.
        if self.held_bytes > ticket.held and self.held_bytes + extra > self._max_bytes:
            raise self.busy()
        self.held_bytes += extra
        ticket.held = total

    async def check(self, work: Callable[[], T]) -> T:
        """Run a photo check in one of the check threads (with the request's log context)."""
        context = contextvars.copy_context()
        return await asyncio.wrap_future(self._threads.submit(context.run, _releasing, work))

    def close(self) -> None:
        """Let the check threads end once their work is done."""
        self._threads.shutdown(wait=False)


def _releasing(work: Callable[[], T]) -> T:
    try:
        return work()
    finally:
        release_free_memory()  # a check's decoded images are gone: give the pages back


class UploadTicket:
    """One admitted upload: how many of its bytes it holds in memory."""

    def __init__(self, admission: UploadAdmission) -> None:
        self._admission = admission
        self.held = 0

    def hold(self, total_bytes: int) -> None:
        """Count the upload's bytes received so far (raises `ServerBusyError` over budget)."""
        self._admission.grow(self, total_bytes)
