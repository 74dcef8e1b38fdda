"""Invitations: single-use, expiring rights to register, made by an operator, optionally bound
to an email domain. Only a digest of each token is stored; the token is shown once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from headshot.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from headshot.services.audit import AuditLog
from headshot.services.secrets import digest, new_secret
from headshot.storage.db import Database
from headshot.storage.records import Invitation

INVITE_PREFIX = "hs_inv_"
InvitationState = Literal["open", "used", "expired", "revoked"]


@dataclass(frozen=True)
class InvitationView:
    id: str
    state: InvitationState
    email_domain: str | None
    note: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedInvitation:
    view: InvitationView
    token: str


class Invitations:
    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        clock: Callable[[], datetime],
        default_ttl_days: int,
    ) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        self._default_ttl_days = default_ttl_days

    def create(
        self,
        *,
        by: str | None,
        email_domain: str | None = None,
        expires_in_days: int | None = None,
        note: str = "",
    ) -> IssuedInvitation:
        domain = _domain(email_domain)
        days = expires_in_days or self._default_ttl_days
        if not 0 < days <= 365:
            raise InvalidInputError("An invitation lasts 1 to 365 days.", code="invalid_expiry")
        token = new_secret(INVITE_PREFIX)
        now = self._clock()
        with self._db.transaction() as db:
            row = Invitation(
                token_hash=digest(token),
                email_domain=domain,
                note=note.strip()[:200],
                created_by=by,
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
            db.add(row)
            db.flush()
            self._record(db, row, by=by, action="invitation.create")
            return IssuedInvitation(view=self._view(row), token=token)

    def list(self) -> list[InvitationView]:
        with self._db.transaction() as db:
            rows = db.scalars(select(Invitation).order_by(Invitation.created_at.desc()))
            return [self._view(row) for row in rows]

    def revoke(self, invitation_id: str, *, by: str | None) -> InvitationView:
        with self._db.transaction() as db:
            row = db.get(Invitation, invitation_id, with_for_update=True)
            if row is None:
                raise NotFoundError("No such invitation.")
            if row.revoked_at is None and row.used_at is None:
                row.revoked_at = self._clock()
                self._record(db, row, by=by, action="invitation.revoke")
            return self._view(row)

    def redeem(self, db: Session, token: str, *, email: str, user_id: str) -> None:
        """Use the invitation for `email`'s new account, inside the registration's transaction.
        The conditional update makes two registrations racing for one invitation end with one
        account."""
        row = db.scalars(select(Invitation).where(Invitation.token_hash == digest(token))).first()
        now = self._clock()
        _refuse_unusable(row, email=email, now=now)
        assert row is not None
        taken = db.execute(
            update(Invitation)
            .where(Invitation.id == row.id, Invitation.used_at.is_(None))
            .values(used_at=now, used_by=user_id)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            raise PermissionDeniedError(
                "This invitation has already been used.", code="invite_used"
            )
        self._audit.record(
            db,
            subject=user_id,
            actor="user",
            action="invitation.use",
            resource=("invitation", row.id),
        )

    def _view(self, row: Invitation) -> InvitationView:
        return InvitationView(
            id=row.id,
            state=_state(row, self._clock()),
            email_domain=row.email_domain,
            note=row.note,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
        )

    def _record(self, db: Session, row: Invitation, *, by: str | None, action: str) -> None:
        self._audit.record(
            db,
            subject=None,
            actor="operator",
            action=action,
            resource=("invitation", row.id),
            detail={"email_domain": row.email_domain, "by": by},
        )


def _state(row: Invitation, now: datetime) -> InvitationState:
    if row.revoked_at is not None:
        return "revoked"
    if row.used_at is not None:
        return "used"
    return "expired" if row.expires_at <= now else "open"


def _refuse_unusable(row: Invitation | None, *, email: str, now: datetime) -> None:
    state = _state(row, now) if row is not None else "revoked"
    if state == "revoked":
        raise PermissionDeniedError(
            "That invitation is not valid. Ask the operator for a new one.", code="invite_invalid"
        )
    if state == "used":
        raise _used()
    if state == "expired":
        raise PermissionDeniedError(
            "This invitation has expired. Ask the operator for a new one.", code="invite_expired"
        )
    assert row is not None
    if row.email_domain and not email.endswith(f"@{row.email_domain}"):
        raise PermissionDeniedError(
            f"This invitation is for addresses at {row.email_domain}.", code="invite_domain"
        )


def _used() -> PermissionDeniedError:
    return PermissionDeniedError("This invitation has already been used.", code="invite_used")


def _domain(value: str | None) -> str | None:
    domain = (value or "").strip().lower().lstrip("@")
    if not domain:
        return None
    if "." not in domain or any(c.isspace() or c == "@" for c in domain) or len(domain) > 255:
        raise InvalidInputError("Give an email domain such as example.com.", code="invalid_domain")
    return domain
