"""Retention: nothing is kept longer than the settings say. Run hourly by the workers and at once
by `headshot retention run`; every rule lives in `domain.retention`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from headshot.domain.jobs import ACTIVE
from headshot.domain.retention import erasure_date, inactivity_action, photos_due
from headshot.services.audit import AuditLog
from headshot.services.blobs import BlobJanitor
from headshot.services.erasure import Erasure
from headshot.services.notify import Notifier
from headshot.services.orphans import OrphanSweep
from headshot.settings import RetentionSettings
from headshot.storage.db import Database
from headshot.storage.records import Photo, PhotoSession, Training, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    photos_deleted: int = 0
    sessions_purged: int = 0
    datasets_deleted: int = 0
    accounts_warned: int = 0
    accounts_erased: int = 0
    orphans_deleted: int = 0


class Retention:
    def __init__(
        self,
        *,
        db: Database,
        janitor: BlobJanitor,
        erasure: Erasure,
        notifier: Notifier,
        audit: AuditLog,
        clock: Callable[[], datetime],
        limits: RetentionSettings,
        orphans: OrphanSweep,
        discard_dataset: Callable[[str], bool] | None = None,
    ) -> None:
        self._db = db
        self._janitor = janitor
        self._erasure = erasure
        self._notifier = notifier
        self._audit = audit
        self._clock = clock
        self._limits = limits
        self._discard_dataset = discard_dataset
        self._orphans = orphans

    def run(self) -> RetentionReport:
        photos, sessions = self.purge_source_photos()
        datasets = self.sweep_datasets()
        warned, erased = self.handle_inactive_accounts()
        # Last: it also removes whatever the steps above failed to delete.
        orphans = self._orphans.sweep()
        report = RetentionReport(photos, sessions, datasets, warned, erased, orphans)
        if any(vars(report).values()):
            log.info("retention: %s", vars(report))
        return report

    def purge_source_photos(self) -> tuple[int, int]:
        """Photos (all renditions) of batches whose last training ended long enough ago. Photos
        added after that training wait for the next one; a batch with a running training is
        left alone."""
        now = self._clock()
        query = (
            select(Training.session_id, func.max(Training.finished_at))
            .where(Training.finished_at.is_not(None))
            .group_by(Training.session_id)
        )
        deleted = purged = 0
        with self._db.transaction() as db:
            candidates = [(row[0], row[1]) for row in db.execute(query)]
        for session_id, last_end in candidates:
            if last_end is None or not photos_due(
                last_end, now, days=self._limits.photo_days_after_training
            ):
                continue
            count = self._purge_session(session_id, before=last_end)
            deleted += count
            purged += 1 if count else 0
        return deleted, purged

    def _purge_session(self, session_id: str, *, before: datetime) -> int:
        with self._db.transaction() as db:
            session = db.get(PhotoSession, session_id, with_for_update=True)
            running = select(Training.id).where(
                Training.session_id == session_id, Training.status.in_(ACTIVE)
            )
            if session is None or db.scalars(running).first() is not None:
                return 0
            photos = list(
                db.scalars(
                    select(Photo).where(Photo.session_id == session_id, Photo.created_at <= before)
                )
            )
            if not photos:
                return 0
            keys = [k for p in photos for k in (p.original_key, p.training_key, p.thumb_key) if k]
            for photo in photos:
                db.delete(photo)
            session.photos_purged_at = self._clock()
            self._audit.record(
                db,
                subject=session.user_id,
                actor="retention",
                action="photos.expire",
                resource=("session", session_id),
                detail={"photos": len(photos)},
            )
            owner = session.user_id
        self._janitor.delete(owner, keys)
        return len(photos)

    def sweep_datasets(self) -> int:
        """Selfie zips of trainings that have ended (their job deletes them; this catches what
        a crash left behind)."""
        if self._discard_dataset is None:
            return 0
        with self._db.transaction() as db:
            query = select(Training.id).where(
                Training.dataset_key.is_not(None), Training.status.not_in(ACTIVE)
            )
            ended = list(db.scalars(query))
        return sum(1 for training_id in ended if self._discard_dataset(training_id))

    def handle_inactive_accounts(self) -> tuple[int, int]:
        now = self._clock()
        with self._db.transaction() as db:
            users = db.execute(
                select(User.id, User.email, User.last_active_at, User.inactivity_warned_at)
            )
            due = [
                (user_id, email, action, warned)
                for user_id, email, active, warned in users
                if (
                    action := inactivity_action(
                        last_active=active,
                        warned_at=warned,
                        now=now,
                        warn_days=self._limits.inactive_warn_days,
                        grace_days=self._limits.inactive_erase_grace_days,
                    )
                )
            ]
        warned_count = erased = 0
        for user_id, email, action, _warned in due:
            if action == "warn":
                self._warn(user_id, email, now)
                warned_count += 1
            else:
                self._erasure.erase_account(user_id, actor="retention")
                erased += 1
        return warned_count, erased

    def _warn(self, user_id: str, email: str, now: datetime) -> None:
        grace = self._limits.inactive_erase_grace_days
        when = erasure_date(now, grace_days=grace).date().isoformat()
        body = (
            f"Your Headshot account has not been used for {self._limits.inactive_warn_days} "
            f"days. To protect your privacy it will be erased on {when}, with all its photos, "
            "models and headshots.\n\nSign in before then to keep it. You can download all "
            "your data from the account page first.\n"
        )
        try:
            sent = self._notifier.send(to=email, subject="Your Headshot account", body=body)
        except Exception:  # a mail outage must not stop retention; the warning is recorded
            log.warning("inactivity warning could not be mailed", exc_info=True)
            sent = False
        with self._db.transaction() as db:
            user = db.get(User, user_id, with_for_update=True)
            if user is None:
                return
            user.inactivity_warned_at = now
            self._audit.record(
                db,
                subject=user_id,
                actor="retention",
                action="account.inactivity_warning",
                detail={"erase_on": when, "mailed": sent},
            )
