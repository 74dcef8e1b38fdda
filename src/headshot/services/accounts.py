"""Accounts: registration, login sessions, authentication of every request, consent."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from headshot.domain.consent import BIOMETRIC_PURPOSE, CONSENT_VERSION
from headshot.domain.errors import (
    AuthenticationError,
    InvalidInputError,
    PermissionDeniedError,
)
from headshot.domain.models import ALL_SCOPES, LoginResult, Principal, Scope, UserView
from headshot.services.audit import AuditLog, AuditView, audit_page
from headshot.services.consent_gate import cancel_active_jobs
from headshot.services.invitations import Invitations
from headshot.services.login_limits import LoginLimiter
from headshot.services.notify import Notifier
from headshot.services.password_policy import check_new_password
from headshot.services.queue import JobQueue
from headshot.services.secrets import (
    API_TOKEN_PREFIX,
    SESSION_PREFIX,
    Passwords,
    digest,
    new_secret,
)
from headshot.settings import AuthSettings, SignupMode
from headshot.storage.db import Database
from headshot.storage.records import ApiToken, AuthSession, Consent, User, new_id

ACTIVITY_RESOLUTION = timedelta(hours=1)
BAD_LOGIN = "That email and password do not match an account."
EXISTING_ACCOUNT_SUBJECT = "Someone tried to create an account with your email"
EXISTING_ACCOUNT_BODY = (
    "Someone (perhaps you) tried to create a Headshot account with this email address, which "
    "already has one. Nothing was changed. If it was you, sign in with your password instead; "
    "if you have forgotten it, you can reset it from the sign-in page. If it was not you, you "
    "can ignore this message."
)
log = logging.getLogger(__name__)


class Accounts:
    def __init__(
        self,
        *,
        db: Database,
        settings: AuthSettings,
        passwords: Passwords,
        audit: AuditLog,
        clock: Callable[[], datetime],
        queue: JobQueue | None = None,
        signup: SignupMode = "open",
        invitations: Invitations | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self._notifier = notifier
        self._db = db
        self._signup = signup
        self._invitations = invitations
        self._queue = queue
        self._settings = settings
        self._passwords = passwords
        self._audit = audit
        self._clock = clock
        self._limiter = LoginLimiter(
            db=db,
            account_attempts=settings.login_attempts,
            address_attempts=settings.login_address_attempts,
            window_s=settings.login_window_s,
            clock=clock,
        )

    def register(self, *, email: str, password: str, invite: str | None = None) -> UserView:
        """Create an account. For an email that already has one, nothing is created (nor an
        invitation spent) and the answer looks the same (a new-looking account), so registration
        cannot be used to learn who has an account; the owner is told by mail instead."""
        email = email.strip().lower()
        self._check_signup_allowed(invite)
        check_new_password(password, email=email, min_length=self._settings.min_password_length)
        password_hash = self._passwords.hash(password)  # also for a known email: same timing
        with self._db.transaction() as db:
            now = self._clock()
            existing = db.scalars(select(User.id).where(User.email == email)).first()
            if existing is not None:
                self._audit.record(
                    db, subject=existing, actor="user", action="account.register_existing"
                )
                view = UserView(new_id(), email, now, False, None, False)
            else:
                user = User(
                    email=email, password_hash=password_hash, created_at=now, last_active_at=now
                )
                db.add(user)
                db.flush()
                if invite and self._invitations is not None:
                    self._invitations.redeem(db, invite, email=email, user_id=user.id)
                self._audit.record(db, subject=user.id, actor="user", action="account.register")
                view = _user_view(db, user)
        if existing is not None:
            self._tell_owner(email)
        return view

    def _tell_owner(self, email: str) -> None:
        if self._notifier is None:
            return
        notifier = self._notifier
        # Sent from a thread: a slow mail server must not make this answer slower than a new
        # account's, which would tell the caller that the email is known after all.
        threading.Thread(
            target=_send_quietly,
            args=(notifier, email),
            name="headshot-register-notice",
            daemon=True,
        ).start()

    def _check_signup_allowed(self, invite: str | None) -> None:
        if self._signup == "closed":
            raise PermissionDeniedError(
                "Registration is closed on this server. Ask its operator for an account.",
                code="signup_closed",
            )
        if self._signup == "invite" and not invite:
            raise PermissionDeniedError(
                "Registration here needs an invitation. Ask the operator for one.",
                code="invite_required",
            )

    def login(self, *, email: str, password: str, client: str) -> LoginResult:
        email = email.strip().lower()
        held = self._limiter.reserve(email=email, client=client)
        with self._db.transaction() as db:
            user = db.scalars(select(User).where(User.email == email)).first()
            user_id, password_hash = (user.id, user.password_hash) if user else (None, None)
        # Verified outside any transaction: argon2 is slow and must not hold a connection.
        if not self._passwords.verify(password_hash, password):
            raise AuthenticationError(BAD_LOGIN, code="invalid_credentials")
        self._limiter.succeeded(held)
        with self._db.transaction() as db:
            user = db.get(User, user_id) if user_id else None
            if user is None:  # erased while the password was being checked
                raise AuthenticationError(BAD_LOGIN, code="invalid_credentials")
            return self._start_session(db, user, password=password)

    def _start_session(self, db: Session, user: User, *, password: str) -> LoginResult:
        if self._passwords.needs_rehash(user.password_hash):
            user.password_hash = self._passwords.hash(password)
        token = new_secret(SESSION_PREFIX)
        now = self._clock()
        expires = now + timedelta(seconds=self._settings.session_ttl_s)
        db.add(AuthSession(user_id=user.id, token_hash=digest(token), expires_at=expires))
        user.last_active_at, user.inactivity_warned_at = now, None
        self._audit.record(db, subject=user.id, actor="user", action="account.login")
        return LoginResult(access_token=token, expires_at=expires, user=_user_view(db, user))

    def logout(self, principal: Principal) -> None:
        if principal.via != "session":
            return
        with self._db.transaction() as db:
            row = db.get(AuthSession, principal.credential_id)
            if row is not None and row.revoked_at is None:
                row.revoked_at = self._clock()

    def authenticate(self, secret: str) -> Principal:
        """Resolve a session token or personal API token; raise `AuthenticationError` otherwise."""
        with self._db.transaction() as db:
            if secret.startswith(API_TOKEN_PREFIX):
                principal = self._authenticate_api_token(db, secret)
            else:
                principal = self._authenticate_session(db, secret)
        if principal is None:
            raise AuthenticationError("Please sign in again.", code="unauthenticated")
        return principal

    def _authenticate_session(self, db: Session, secret: str) -> Principal | None:
        row = db.scalars(
            select(AuthSession).where(AuthSession.token_hash == digest(secret))
        ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= self._clock():
            return None
        user = db.get(User, row.user_id)
        if user is None:
            return None
        self._seen(user)
        return Principal(user.id, user.is_operator, "session", row.id, ALL_SCOPES)

    def _authenticate_api_token(self, db: Session, secret: str) -> Principal | None:
        row = db.scalars(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
        now = self._clock()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        user = db.get(User, row.user_id)
        if user is None:
            return None
        row.last_used_at = now
        self._seen(user)
        scopes: tuple[Scope, ...] = tuple(s for s in ALL_SCOPES if s in row.scopes)
        # Operator rights are never delegated to personal API tokens.
        return Principal(user.id, False, "api_token", row.id, scopes)

    def _seen(self, user: User) -> None:
        """Activity keeps an account from the inactivity erasure (written at most hourly)."""
        now = self._clock()
        if now - user.last_active_at >= ACTIVITY_RESOLUTION or user.inactivity_warned_at:
            user.last_active_at, user.inactivity_warned_at = now, None

    def me(self, principal: Principal) -> UserView:
        with self._db.transaction() as db:
            user = db.get(User, principal.user_id)
            if user is None:
                raise AuthenticationError("Please sign in again.", code="unauthenticated")
            return _user_view(db, user)

    def view(self, user_id: str) -> UserView:
        """The account as the person sees it (after a change made by another service)."""
        with self._db.transaction() as db:
            user = db.get(User, user_id)
            if user is None:
                raise AuthenticationError("Please sign in again.", code="unauthenticated")
            return _user_view(db, user)

    def set_consent(self, principal: Principal, *, biometric_processing: bool) -> UserView:
        """Give or withdraw consent. Withdrawal stops processing at once: every queued or
        running job of the person is cancelled (the job code then cancels it at the provider)."""
        stopped: tuple[list[str], list[str]] = ([], [])
        with self._db.transaction() as db:
            current = _active_consent(db, principal.user_id)
            if biometric_processing and current is None:
                db.add(
                    Consent(
                        user_id=principal.user_id,
                        purpose=BIOMETRIC_PURPOSE,
                        version=CONSENT_VERSION,
                        given_at=self._clock(),
                    )
                )
                self._audit.record(
                    db, subject=principal.user_id, actor="user", action="consent.give"
                )
            elif not biometric_processing and current is not None:
                current.withdrawn_at = self._clock()
                self._audit.record(
                    db, subject=principal.user_id, actor="user", action="consent.withdraw"
                )
                stopped = cancel_active_jobs(
                    db, principal.user_id, clock=self._clock, audit=self._audit
                )
            db.flush()
            user = db.get(User, principal.user_id)
            assert user is not None
            view = _user_view(db, user)
        if self._queue is not None:
            for training_id in stopped[0]:
                self._queue.run_training(training_id)
            for generation_id in stopped[1]:
                self._queue.run_generation(generation_id)
        return view

    def audit_page(
        self, principal: Principal, *, cursor: str | None, limit: int = 50, everyone: bool = False
    ) -> tuple[list[AuditView], str | None]:
        """The caller's audit entries, newest first; an operator may ask for everyone's."""
        if everyone and not principal.is_operator:
            raise PermissionDeniedError("Only an operator can read the whole audit log.")
        before = _cursor_id(cursor)
        with self._db.transaction() as db:
            subject = None if everyone else principal.user_id
            page = audit_page(db, subject=subject, before_id=before, limit=limit + 1)
            if everyone:
                self._audit.record(
                    db, subject=None, actor="operator", action="audit.read", detail={}
                )
        more = len(page) > limit
        page = page[:limit]
        return page, (str(page[-1].id) if more and page else None)

    def has_consent(self, db: Session, user_id: str) -> bool:
        return _active_consent(db, user_id) is not None


def _active_consent(db: Session, user_id: str) -> Consent | None:
    query = select(Consent).where(
        Consent.user_id == user_id,
        Consent.purpose == BIOMETRIC_PURPOSE,
        Consent.withdrawn_at.is_(None),
    )
    return db.scalars(query).first()


def _user_view(db: Session, user: User) -> UserView:
    consent = _active_consent(db, user.id)
    return UserView(
        id=user.id,
        email=user.email,
        created_at=user.created_at,
        consent_given=consent is not None,
        consent_version=consent.version if consent else None,
        is_operator=user.is_operator,
        email_verified=user.email_verified_at is not None,
    )


def _cursor_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInputError("That page cursor is not valid.", code="invalid_cursor")
    return int(cursor)


def _send_quietly(notifier: Notifier, email: str) -> None:
    try:
        notifier.send(to=email, subject=EXISTING_ACCOUNT_SUBJECT, body=EXISTING_ACCOUNT_BODY)
    except Exception:  # best effort: the person can still sign in or reset their password
        log.warning("could not send the existing-account notice", exc_info=True)
