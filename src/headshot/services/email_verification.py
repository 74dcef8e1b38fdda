"""Email verification: a mailed link proves the person reads mail at their address.

`HEADSHOT_EMAIL_VERIFICATION` decides what it gates: `required` refuses sign-in until the address
is confirmed (each refused sign-in mails a fresh link); `optional` mails a link at sign-up and
the account works meanwhile; `off` mails nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlalchemy import update

from headshot.domain.errors import ConflictError
from headshot.domain.models import LoginResult
from headshot.services.account_tokens import Mail, issue, redeem
from headshot.services.audit import AuditLog
from headshot.services.ratelimit import RateLimiter
from headshot.services.secrets import digest
from headshot.storage.db import Database
from headshot.storage.records import AuthSession, User

Mode = Literal["required", "optional", "off"]
RESENDS_PER_WINDOW = 3
LINK_EXPIRED = "This confirmation link has expired or was already used. Ask for a new one."
UNVERIFIED_MESSAGE = (
    "Please confirm your email address first: we just sent you a link. Open it, then sign in again."
)


class EmailVerification:
    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        mode: Mode,
        ttl_s: int,
        link_base: str,
        clock: Callable[[], datetime],
        resend_window_s: int = 300,
    ) -> None:
        self._db = db
        self._resends = RateLimiter(limit=RESENDS_PER_WINDOW, window_s=resend_window_s, clock=clock)
        self._audit = audit
        self._mode = mode
        self._ttl_s = ttl_s
        self._link_base = link_base.rstrip("/")
        self._clock = clock

    @property
    def mode(self) -> Mode:
        return self._mode

    def mail_for(self, user_id: str) -> Mail | None:
        """A fresh link for an unconfirmed address (None when verification is off)."""
        if self._mode == "off":
            return None
        with self._db.transaction() as db:
            user = db.get(User, user_id)
            if user is None or user.email_verified_at is not None:
                return None
            token = issue(db, user.id, "email_verification", now=self._clock(), ttl_s=self._ttl_s)
            return Mail(to=user.email, subject="Confirm your email address", body=self._body(token))

    def resend(self, user_id: str) -> Mail:
        """A new link on request; refused when there is nothing to confirm or when asked for
        too often (429)."""
        with self._db.transaction() as db:
            self._resends.reserve(db, f"verify:user:{user_id}")
        mail = self.mail_for(user_id)
        if mail is None:
            raise ConflictError(
                "Your email address is confirmed already."
                if self._mode != "off"
                else "This server does not confirm email addresses.",
                code="nothing_to_verify",
            )
        return mail

    def verify(self, token: str) -> str:
        """Confirm the address behind a mailed link; returns the user's id."""
        now = self._clock()
        with self._db.transaction() as db:
            user = redeem(db, token, "email_verification", now=now, expired=LINK_EXPIRED)
            user.email_verified_at = user.email_verified_at or now
            self._audit.record(db, subject=user.id, actor="user", action="email.verify")
            return user.id

    def refuses(self, login: LoginResult) -> bool:
        """Under `required`, a sign-in with an unconfirmed address is refused."""
        return self._mode == "required" and not login.user.email_verified

    def undo_login(self, login: LoginResult) -> Mail | None:
        """End the session a refused sign-in made; returns a fresh link to mail."""
        with self._db.transaction() as db:
            db.execute(
                update(AuthSession)
                .where(AuthSession.token_hash == digest(login.access_token))
                .values(revoked_at=self._clock())
            )
        return self.mail_for(login.user.id)

    def _body(self, token: str) -> str:
        hours = self._ttl_s // 3600
        return (
            "Please confirm that this is your address for your Headshot account.\n\n"
            f"Confirm it here (the link works once, for {hours} hours):\n"
            f"{self._link_base}/#/verify?token={token}\n\n"
            "If you did not sign up, ignore this mail.\n"
        )
