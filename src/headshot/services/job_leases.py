"""Job leases: which process is running which job step, and until when.

Huey forgets a task the moment a worker takes it, so a worker killed mid-step (OOM killer,
`kill -9`, power loss) takes the task with it. Before running a step a worker writes a lease
row (`hold`); its heartbeat (`renew`, every few seconds) pushes the expiry forward; the row is
deleted when the step ends, whatever the outcome. A lease whose expiry has passed therefore
means its holder died: any live process claims it (`reclaim_expired`, one atomic delete, so
exactly one claimer wins) and enqueues the job again, within one lease of the death instead of
the stale-job timeout. Steps are idempotent, so the rare double run (a holder frozen for a
whole lease) costs time, not correctness.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from headshot.storage.db import Database
from headshot.storage.records import JobLease

log = logging.getLogger(__name__)


def process_owner() -> str:
    """This process's lease owner name: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class ExpiredLease:
    kind: str
    job_id: str


class JobLeases:
    def __init__(
        self,
        *,
        db: Database,
        clock: Callable[[], datetime],
        lease_s: float,
        owner: str | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.lease = timedelta(seconds=lease_s)
        self.owner = owner or process_owner()
        self._held: set[str] = set()  # job ids whose step runs in this process now
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, kind: str, job_id: str) -> Iterator[bool]:
        """Lease `job_id` for one step; yields False (run nothing now) when a live holder has
        it, so two steps of one job never run at once."""
        if not self._claim(kind, job_id):
            log.info("job step already running elsewhere", extra={"job_id": job_id})
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                self._held.discard(job_id)
            self._release(job_id)

    def renew(self) -> int:
        """The heartbeat: push the expiry of every lease this process holds; how many."""
        with self._lock:
            held = list(self._held)
        if not held:
            return 0
        with self._db.transaction() as db:
            result = db.execute(
                update(JobLease)
                .where(JobLease.owner == self.owner, JobLease.job_id.in_(held))
                .values(expires_at=self._clock() + self.lease)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def reclaim_expired(self) -> list[ExpiredLease]:
        """Remove the leases whose holder died; each is returned to exactly one caller."""
        now = self._clock()
        with self._db.transaction() as db:
            expired = db.execute(
                select(JobLease.job_id, JobLease.kind).where(JobLease.expires_at < now)
            ).all()
        claimed: list[ExpiredLease] = []
        for job_id, kind in expired:
            with self._db.transaction() as db:
                # Conditional delete: a renewal or another claimer since the read wins.
                result = db.execute(
                    delete(JobLease).where(JobLease.job_id == job_id, JobLease.expires_at < now)
                )
                if getattr(result, "rowcount", 0) == 1:
                    claimed.append(ExpiredLease(kind=kind, job_id=job_id))
        return claimed

    def live(self) -> set[str]:
        """Job ids whose step some live process is running now."""
        with self._db.transaction() as db:
            query = select(JobLease.job_id).where(JobLease.expires_at >= self._clock())
            return set(db.scalars(query))

    def _claim(self, kind: str, job_id: str) -> bool:
        with self._lock:
            if job_id in self._held:
                return False
            self._held.add(job_id)
        try:
            if self._write_claim(kind, job_id):
                return True
        except IntegrityError:  # another process inserted the row at the same moment
            pass
        with self._lock:
            self._held.discard(job_id)
        return False

    def _write_claim(self, kind: str, job_id: str) -> bool:
        now = self._clock()
        with self._db.transaction() as db:
            row = db.get(JobLease, job_id, with_for_update=True)
            if row is None:
                db.add(
                    JobLease(
                        job_id=job_id, kind=kind, owner=self.owner, expires_at=now + self.lease
                    )
                )
                db.flush()
                return True
            if row.expires_at >= now and row.owner != self.owner:
                return False
            # Expired (its holder died and no one reclaimed it yet): take it over.
            row.kind, row.owner, row.expires_at = kind, self.owner, now + self.lease
            return True

    def _release(self, job_id: str) -> None:
        try:
            with self._db.transaction() as db:
                db.execute(
                    delete(JobLease).where(JobLease.job_id == job_id, JobLease.owner == self.owner)
                )
        except Exception:  # the lease expires on its own; the job then runs once more
            log.warning("could not release a job lease", exc_info=True, extra={"job_id": job_id})
