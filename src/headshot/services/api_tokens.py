"""Personal API tokens for integrators: scoped, expiring, revocable, rotatable, stored hashed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from headshot.domain.errors import InvalidInputError, PermissionDeniedError
from headshot.domain.models import ALL_SCOPES, ApiTokenView, IssuedApiToken, Principal, Scope
from headshot.services.audit import AuditLog
from headshot.services.secrets import API_TOKEN_PREFIX, digest, new_secret
from headshot.storage.db import Database
from headshot.storage.records import ApiToken
from headshot.storage.scope import OwnerScope


class ApiTokens:
    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        max_ttl_s: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._audit = audit
        self._max_ttl_s = max_ttl_s
        self._clock = clock

    def list(self, principal: Principal) -> list[ApiTokenView]:
        with self._db.transaction() as db:
            rows = OwnerScope(db, principal.user_id).all(ApiToken)
            return [_view(row) for row in sorted(rows, key=lambda r: r.created_at)]

    def create(
        self, principal: Principal, *, name: str, scopes: Sequence[str], expires_in_s: int | None
    ) -> IssuedApiToken:
        _require_login_session(principal)
        ttl = expires_in_s or self._max_ttl_s
        if not 60 <= ttl <= self._max_ttl_s:
            raise InvalidInputError(
                f"A token can live between one minute and {self._max_ttl_s // 86400} days.",
                code="invalid_expiry",
            )
        chosen = _valid_scopes(scopes)
        token = new_secret(API_TOKEN_PREFIX)
        with self._db.transaction() as db:
            row = ApiToken(
                user_id=principal.user_id,
                name=name.strip()[:100] or "API token",
                token_hash=digest(token),
                prefix=token[: len(API_TOKEN_PREFIX) + 4],
                scopes=list(chosen),
                created_at=self._clock(),
                expires_at=self._clock() + timedelta(seconds=ttl),
            )
            db.add(row)
            db.flush()
            self._audit.record(
                db,
                subject=principal.user_id,
                actor="user",
                action="token.create",
                resource=("api_token", row.id),
            )
            return IssuedApiToken(token=token, view=_view(row))

    def revoke(self, principal: Principal, token_id: str) -> None:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(ApiToken, token_id)
            if row.revoked_at is None:
                row.revoked_at = self._clock()
                self._audit.record(
                    db,
                    subject=principal.user_id,
                    actor="user",
                    action="token.revoke",
                    resource=("api_token", row.id),
                )

    def rotate(self, principal: Principal, token_id: str) -> IssuedApiToken:
        """Issue a new secret with the same name, scopes and lifetime, and revoke the old one."""
        _require_login_session(principal)
        with self._db.transaction() as db:
            old = OwnerScope(db, principal.user_id).get(ApiToken, token_id, for_update=True)
            if old.revoked_at is not None:
                raise InvalidInputError("That token is revoked; create a new one.", code="revoked")
            ttl = int((old.expires_at - old.created_at).total_seconds())
            old.revoked_at = self._clock()
            name, scopes = old.name, tuple(old.scopes)
        return self.create(principal, name=name, scopes=scopes, expires_in_s=ttl)


def _require_login_session(principal: Principal) -> None:
    if principal.via != "session":
        raise PermissionDeniedError(
            "API tokens can only be created or rotated while signed in with a password.",
            code="session_required",
        )


def _valid_scopes(scopes: Sequence[str]) -> tuple[Scope, ...]:
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise InvalidInputError(
            f"Unknown scope {unknown[0]!r}; use read and/or write.", code="invalid_scope"
        )
    chosen = tuple(s for s in ALL_SCOPES if s in scopes)
    return chosen or ("read",)


def _view(row: ApiToken) -> ApiTokenView:
    return ApiTokenView(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(s for s in ALL_SCOPES if s in row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked_at is not None,
    )
