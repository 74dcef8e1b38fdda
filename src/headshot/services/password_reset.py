"""Passwords after sign-up: a reset link by email (forgotten password) and a change while signed in.

A reset never tells whether an address has an account: the answer is the same either way, and
the mail goes out after the answer. A completed reset signs the person out everywhere: every
login session, every personal API token and every other reset link stops working.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from headshot.domain.errors import InvalidInputError, RateLimitedError
from headshot.domain.models import Principal
from headshot.services.account_tokens import Mail, issue, redeem, spend_all
from headshot.services.audit import AuditLog
from headshot.services.password_policy import check_new_password
from headshot.services.ratelimit import RateLimiter, release
from headshot.services.secrets import Passwords, digest
from headshot.settings import AuthSettings
from headshot.storage.db import Database
from headshot.storage.records import ApiToken, AuthSession, User

LINK_EXPIRED = "This link has expired or was already used. Ask for a new one."
WRONG_PASSWORD = "Your current password is not right."
# Reset mails per address and window: enough for a lost mail, too few to flood an inbox.
MAILS_PER_WINDOW = 3


class PasswordReset:
    def __init__(
        self,
        *,
        db: Database,
        passwords: Passwords,
        audit: AuditLog,
        settings: AuthSettings,
        link_base: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._audit = audit
        self._settings = settings
        self._link_base = link_base.rstrip("/")
        self._clock = clock
        self._mail_limiter = RateLimiter(
            limit=MAILS_PER_WINDOW, window_s=settings.login_window_s, clock=clock
        )
        self._wrong_limiter = RateLimiter(
            limit=settings.login_attempts, window_s=settings.login_window_s, clock=clock
        )

    @property
    def forgot_answer(self) -> str:
        """The one answer to every request, whether or not the address has an account."""
        minutes = self._settings.password_reset_ttl_s // 60
        return (
            "If an account uses that address, we sent it a link to choose a new password. "
            f"The link works once, for {minutes} minutes."
        )

    def forgot(self, email: str) -> Mail | None:
        """The mail to send, or None (no such account, or too many asked for lately). The
        caller answers `forgot_answer` either way."""
        address = email.strip().lower()
        bucket = f"reset:email:{digest(address)}"
        with self._db.transaction() as db:
            user = db.scalars(select(User).where(User.email == address)).first()
            if user is None:
                return None
            try:
                self._mail_limiter.reserve(db, bucket)
            except RateLimitedError:
                return None
            ttl = self._settings.password_reset_ttl_s
            token = issue(db, user.id, "password_reset", now=self._clock(), ttl_s=ttl)
            self._audit.record(db, subject=user.id, actor="user", action="password.reset_mail")
            return Mail(to=user.email, subject="Choose a new password", body=self._body(token))

    def reset(self, token: str, password: str) -> None:
        """Set a new password from a mailed link and sign out everywhere."""
        # Judged before the link is looked at (says what to fix first), and again with the
        # account's email once the link names it (a password made of the address is guessable).
        self._check_strength(password, email="")
        now = self._clock()
        with self._db.transaction() as db:
            user = redeem(db, token, "password_reset", now=now, expired=LINK_EXPIRED)
            # A refused password rolls the redemption back: the link still works for a better one.
            self._check_strength(password, email=user.email)
            user.password_hash = self._passwords.hash(password)
            spend_all(db, user.id, "password_reset", now=now)
            _revoke_everything(db, user.id, now=now, keep_session=None)
            self._audit.record(db, subject=user.id, actor="user", action="password.reset")

    def change(self, principal: Principal, *, current: str, new: str) -> None:
        """Change the password of a signed-in person; their other sessions end."""
        with self._db.transaction() as db:
            account = db.get(User, principal.user_id)
            assert account is not None  # authenticated a moment ago
            email = account.email
        self._check_strength(new, email=email)
        bucket = f"password:user:{principal.user_id}"
        now = self._clock()
        # Counted (and committed) before the check, so parallel guesses cannot all get through.
        with self._db.transaction() as db:
            attempt = self._wrong_limiter.reserve(db, bucket)
        with self._db.transaction() as db:
            user = db.get(User, principal.user_id)
            assert user is not None  # authenticated a moment ago
            if not self._passwords.verify(user.password_hash, current):
                raise InvalidInputError(WRONG_PASSWORD, code="wrong_password")
            release(db, attempt)
            user.password_hash = self._passwords.hash(new)
            keep = principal.credential_id if principal.via == "session" else None
            _revoke_everything(db, user.id, now=now, keep_session=keep, tokens=False)
            spend_all(db, user.id, "password_reset", now=now)
            self._audit.record(db, subject=user.id, actor="user", action="password.change")

    def _check_strength(self, password: str, *, email: str) -> None:
        """The same rule as at sign-up: long enough and not guessable."""
        check_new_password(password, email=email, min_length=self._settings.min_password_length)

    def _body(self, token: str) -> str:
        minutes = self._settings.password_reset_ttl_s // 60
        return (
            "Someone asked to choose a new password for your Headshot account.\n\n"
            f"Choose it here (the link works once, for {minutes} minutes):\n"
            f"{self._link_base}/#/reset?token={token}\n\n"
            "If it was not you, ignore this mail: your password stays as it is.\n"
        )


def _revoke_everything(
    db: Session, user_id: str, *, now: datetime, keep_session: str | None, tokens: bool = True
) -> None:
    sessions = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep_session is not None:
        sessions = sessions.where(AuthSession.id != keep_session)
    db.execute(sessions.values(revoked_at=now))
    if tokens:
        db.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
