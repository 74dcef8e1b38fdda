"""Retention rules, free of I/O: when source photos, inactive accounts and orphaned files are due
to go."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

InactivityAction = Literal["warn", "erase"]


def photos_due(last_training_end: datetime | None, now: datetime, *, days: int) -> bool:
    """Source photos go `days` after their batch's last training ended (never before one)."""
    return last_training_end is not None and now - last_training_end >= timedelta(days=days)


def inactivity_action(
    *,
    last_active: datetime,
    warned_at: datetime | None,
    now: datetime,
    warn_days: int,
    grace_days: int,
) -> InactivityAction | None:
    """Warn once after `warn_days` without activity; erase `grace_days` after the warning if
    the person did not come back (any activity clears the warning)."""
    if warned_at is None or last_active > warned_at:
        return "warn" if now - last_active >= timedelta(days=warn_days) else None
    return "erase" if now - warned_at >= timedelta(days=grace_days) else None


def erasure_date(warned_at: datetime, *, grace_days: int) -> datetime:
    return warned_at + timedelta(days=grace_days)


def orphan_due(
    *, modified: datetime, referenced: bool, owner_known: bool, now: datetime, grace: timedelta
) -> bool:
    """A stored file goes when no record names it (or its owner is gone) and it is older than
    the grace period, which covers the moment between writing a file and recording it."""
    return now - modified >= grace and (not owner_known or not referenced)
