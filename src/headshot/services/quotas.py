"""Quotas and the daily spend cap, counted on the records so they hold across every server and
worker: per-person trainings and headshots per period, and an estimated provider spend per UTC
day for the whole instance.

`charge` runs inside the transaction that creates the job. It first adds the job's estimated
cost to the day's `DailySpend` row, which locks that row until the transaction ends, and locks
the person's row; so racing servers are serialised and cannot both pass a limit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from headshot.domain.errors import NotFoundError, QuotaExceededError, SpendCapReachedError
from headshot.services.audit import AuditLog
from headshot.services.notify import Notifier
from headshot.settings import QuotaSettings
from headshot.storage.db import Database
from headshot.storage.records import DailySpend, QuotaOverride, UsageEntry, User

log = logging.getLogger(__name__)
UsageKind = Literal["training", "image"]
MICRO = 1_000_000


@dataclass(frozen=True)
class QuotaView:
    user_id: str
    email: str
    period_days: int
    trainings_used: int
    trainings_limit: int  # 0: no limit
    images_used: int
    images_limit: int
    overridden: bool


class Quotas:
    def __init__(
        self,
        *,
        db: Database,
        limits: QuotaSettings,
        audit: AuditLog,
        notifier: Notifier,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._limits = limits
        self._audit = audit
        self._notifier = notifier
        self._clock = clock

    def charge(
        self,
        db: Session,
        *,
        user_id: str,
        kind: UsageKind,
        amount: int,
        engine: str,
        billed: int | None = None,
    ) -> None:
        """Count `amount` of `kind` for the person, or raise `SpendCapReachedError` /
        `QuotaExceededError`; the caller's transaction then rolls everything back. `billed` is
        how many the provider makes and charges for (more than `amount` when a generation makes
        candidates to cull); the spend estimate uses it, the person's quota counts `amount`."""
        now = self._clock()
        price = self._limits.prices_usd.get(f"{engine}.{kind}", 0.0)
        cost = round(price * (amount if billed is None else billed) * MICRO)
        if cost > 0 and self._limits.daily_spend_cap_usd > 0:
            self._add_spend(db, now, cost)
        db.execute(select(User.id).where(User.id == user_id).with_for_update())
        self._check_person(db, user_id, kind, amount, now)
        entry = UsageEntry(user_id=user_id, kind=kind, amount=amount, engine=engine, at=now)
        entry.cost_micro_usd = cost
        db.add(entry)

    def view(self, email: str) -> QuotaView:
        with self._db.transaction() as db:
            user = _user(db, email)
            return self._view(db, user)

    def own(self, user_id: str) -> QuotaView:
        """The caller's own limits and use."""
        with self._db.transaction() as db:
            user = db.get(User, user_id)
            if user is None:
                raise NotFoundError("No such account.")
            return self._view(db, user)

    def set_override(
        self,
        email: str,
        *,
        trainings_per_period: int | None,
        images_per_period: int | None,
        by: str | None,
    ) -> QuotaView:
        """Per-person limits (None: the default from settings; 0: no limit)."""
        with self._db.transaction() as db:
            user = _user(db, email)
            row = _override(db, user.id) or QuotaOverride(user_id=user.id)
            row.trainings_per_period = trainings_per_period
            row.images_per_period = images_per_period
            row.updated_at = self._clock()
            db.add(row)
            self._audit.record(
                db,
                subject=user.id,
                actor="operator",
                action="quota.set",
                detail={
                    "trainings_per_period": trainings_per_period,
                    "images_per_period": images_per_period,
                    "by": by,
                },
            )
            db.flush()
            return self._view(db, user)

    def spent_today_usd(self) -> float:
        with self._db.transaction() as db:
            row = db.get(DailySpend, _day(self._clock()))
            return (row.spent_micro_usd if row else 0) / MICRO

    def _add_spend(self, db: Session, now: datetime, cost: int) -> None:
        day = _day(now)
        db.execute(_insert_missing_day(db, day))
        spent = db.scalar(
            update(DailySpend)
            .where(DailySpend.day == day)
            .values(spent_micro_usd=DailySpend.spent_micro_usd + cost)
            .returning(DailySpend.spent_micro_usd)
        )
        if spent is not None and spent > self._limits.daily_spend_cap_usd * MICRO:
            resets = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
            raise _with_reset(
                SpendCapReachedError(
                    "This server's budget for paid work is used up for today. "
                    f"Please try again after {resets:%H:%M} UTC.",
                    retry_after_s=_seconds(resets - now),
                ),
                resets,
            )

    def _check_person(
        self, db: Session, user_id: str, kind: UsageKind, amount: int, now: datetime
    ) -> None:
        limit = self._limit(_override(db, user_id), kind)
        if limit == 0:
            return
        start = now - timedelta(days=self._limits.period_days)
        entries = [
            (at, counted)
            for at, counted in db.execute(
                select(UsageEntry.at, UsageEntry.amount)
                .where(
                    UsageEntry.user_id == user_id, UsageEntry.kind == kind, UsageEntry.at > start
                )
                .order_by(UsageEntry.at)
            )
        ]
        used = sum(counted for _, counted in entries)
        if used + amount <= limit:
            return
        resets = self._frees_up(entries, used=used, amount=amount, limit=limit, now=now)
        noun = "trainings" if kind == "training" else "headshots"
        raise _with_reset(
            QuotaExceededError(
                f"You have used {used} of your {limit} {noun} for this "
                f"{self._limits.period_days}-day period. You can ask for more "
                f"from {resets:%Y-%m-%d %H:%M} UTC, or ask the operator for a higher limit.",
                retry_after_s=_seconds(resets - now),
            ),
            resets,
        )

    def _frees_up(
        self,
        entries: list[tuple[datetime, int]],
        *,
        used: int,
        amount: int,
        limit: int,
        now: datetime,
    ) -> datetime:
        """When enough of the oldest usage leaves the window for `amount` more to fit."""
        period = timedelta(days=self._limits.period_days)
        for at, counted in entries:
            used -= counted
            if used + amount <= limit:
                return at + period
        return now + period

    def _limit(self, override: QuotaOverride | None, kind: UsageKind) -> int:
        if kind == "training":
            custom = override.trainings_per_period if override else None
            return self._limits.trainings_per_period if custom is None else custom
        custom = override.images_per_period if override else None
        return self._limits.images_per_period if custom is None else custom

    def _view(self, db: Session, user: User) -> QuotaView:
        start = self._clock() - timedelta(days=self._limits.period_days)
        override = _override(db, user.id)

        def used(kind: UsageKind) -> int:
            total = db.scalar(
                select(func.coalesce(func.sum(UsageEntry.amount), 0)).where(
                    UsageEntry.user_id == user.id, UsageEntry.kind == kind, UsageEntry.at > start
                )
            )
            return int(total or 0)

        return QuotaView(
            user_id=user.id,
            email=user.email,
            period_days=self._limits.period_days,
            trainings_used=used("training"),
            trainings_limit=self._limit(override, "training"),
            images_used=used("image"),
            images_limit=self._limit(override, "image"),
            overridden=override is not None,
        )

    def notify_cap_reached(self) -> None:
        """Tell the operator that the day's cap was reached, once a day across all processes."""
        now = self._clock()
        with self._db.transaction() as db:
            claimed = db.execute(
                update(DailySpend)
                .where(DailySpend.day == _day(now), DailySpend.notified_at.is_(None))
                .values(notified_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # another process told them
                return
            cap = self._limits.daily_spend_cap_usd
            self._audit.record(
                db, subject=None, actor="system", action="spend_cap.reached", detail={"cap": cap}
            )
        subject = f"Headshot: the daily spend cap of ${cap:.2f} was reached"
        body = (
            f"New paid work is refused until 00:00 UTC. Raise HEADSHOT_QUOTAS__DAILY_SPEND_CAP_USD "
            f"to allow more. Spent today (estimated): ${self.spent_today_usd():.2f}."
        )
        try:
            if self._limits.operator_email:
                self._notifier.send(to=self._limits.operator_email, subject=subject, body=body)
            else:
                log.warning("%s (set HEADSHOT_QUOTAS__OPERATOR_EMAIL to be mailed)", subject)
        except Exception:  # a notice that cannot be sent must not turn the 429 into a 500
            log.warning("could not send the spend-cap notice", exc_info=True)


@contextmanager
def charging(quotas: Quotas | None) -> Iterator[None]:
    """Wrap a job's transaction: a spend-cap refusal, once rolled back, tells the operator."""
    try:
        yield
    except SpendCapReachedError:
        if quotas is not None:
            quotas.notify_cap_reached()
        raise


RateLimited = TypeVar("RateLimited", SpendCapReachedError, QuotaExceededError)


def _insert_missing_day(db: Session, day: str) -> Executable:
    values = {"day": day, "spent_micro_usd": 0}
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(DailySpend).values(values).on_conflict_do_nothing()
    return sqlite.insert(DailySpend).values(values).on_conflict_do_nothing()


def _override(db: Session, user_id: str) -> QuotaOverride | None:
    return db.scalars(select(QuotaOverride).where(QuotaOverride.user_id == user_id)).first()


def _user(db: Session, email: str) -> User:
    user = db.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFoundError("No account with that email.")
    return user


def _with_reset(error: RateLimited, resets: datetime) -> RateLimited:
    error.details["resets_at"] = resets.isoformat()
    return error


def _day(now: datetime) -> str:
    return now.date().isoformat()


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
