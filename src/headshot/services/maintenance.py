"""Housekeeping run by the periodic maintenance task: nothing is kept "just in case"."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from headshot.storage.db import Database
from headshot.storage.records import AccountToken, ApiToken, AuthSession, RateLimitBucket

log = logging.getLogger(__name__)

# Revoked or expired credentials stay this long so the account page can show them, then go.
CREDENTIAL_GRACE = timedelta(days=30)


class Maintenance:
    def __init__(self, *, db: Database, clock: Callable[[], datetime], rate_window_s: int) -> None:
        self._db = db
        self._clock = clock
        self._rate_window = timedelta(seconds=rate_window_s)

    def purge_expired_credentials(self) -> int:
        """Delete login sessions and API tokens long past expiry or revocation."""
        cutoff = self._clock() - CREDENTIAL_GRACE
        with self._db.transaction() as db:
            sessions = db.execute(
                delete(AuthSession).where(
                    or_(AuthSession.expires_at < self._clock(), AuthSession.revoked_at.is_not(None))
                )
            )
            tokens = db.execute(
                delete(ApiToken).where(
                    or_(ApiToken.expires_at < cutoff, ApiToken.revoked_at < cutoff)
                )
            )
            # Mailed links long past expiry (a spent one has expired by then too).
            links = db.execute(delete(AccountToken).where(AccountToken.expires_at < cutoff))
            windows = db.execute(
                delete(RateLimitBucket).where(
                    RateLimitBucket.window_started_at < self._clock() - self._rate_window
                )
            )
        count = sum(int(getattr(r, "rowcount", 0) or 0) for r in (sessions, tokens, links, windows))
        if count:
            log.info("purged %d expired credentials and rate-limit windows", count)
        return count
