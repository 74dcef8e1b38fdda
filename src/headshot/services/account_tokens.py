"""Single-use secrets mailed to a person (password reset, email verification).

Only a SHA-256 digest is stored; a token works once, before it expires, for its own purpose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from headshot.domain.errors import InvalidInputError
from headshot.services.notify import Notifier
from headshot.services.secrets import digest, new_secret
from headshot.storage.records import AccountToken, User

log = logging.getLogger(__name__)
Purpose = Literal["password_reset", "email_verification"]
ACCOUNT_TOKEN_PREFIX = "hs_at_"
_TOKEN_MAX_LENGTH = 100


@dataclass(frozen=True)
class Mail:
    """A message ready to hand to the `Notifier` (sent after the answer, never in its way)."""

    to: str
    subject: str
    body: str


def deliver(notifier: Notifier, mail: Mail) -> None:
    """Hand a mail to the mail server; a failure is logged (the person can ask again)."""
    try:
        notifier.send(to=mail.to, subject=mail.subject, body=mail.body)
    except Exception:  # runs after the answer was sent: nobody to tell but the log
        log.warning("mail not sent: %s", mail.subject, exc_info=True)


def issue(db: Session, user_id: str, purpose: Purpose, *, now: datetime, ttl_s: int) -> str:
    """A new token; earlier unused tokens of the same purpose stop working (only the latest
    mail's link counts)."""
    spend_all(db, user_id, purpose, now=now)
    secret = new_secret(ACCOUNT_TOKEN_PREFIX)
    db.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=digest(secret),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )
    return secret


def redeem(db: Session, secret: str, purpose: Purpose, *, now: datetime, expired: str) -> User:
    """The token's user; the token is spent. `InvalidInputError` (`invalid_token`, with the
    plain sentence `expired`) for an unknown, used, expired or other-purpose token."""
    row = None
    if 0 < len(secret) <= _TOKEN_MAX_LENGTH:
        query = select(AccountToken).where(AccountToken.token_hash == digest(secret))
        row = db.scalars(query.with_for_update()).first()
    usable = row is not None and row.purpose == purpose
    if row is None or not usable or row.used_at is not None or row.expires_at <= now:
        raise InvalidInputError(expired, code="invalid_token")
    user = db.get(User, row.user_id)
    if user is None:
        raise InvalidInputError(expired, code="invalid_token")
    row.used_at = now
    return user


def spend_all(db: Session, user_id: str, purpose: Purpose, *, now: datetime) -> None:
    db.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
