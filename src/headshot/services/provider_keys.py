"""Operator-managed fal keys: encrypted at rest, rotated without downtime.

Each scope (`API` keys run the work, `ADMIN` keys delete payloads and rotate keys) has its own
state machine::

    add ──▶ active ──(a newer key is added, or retire)──▶ retiring ──(revoke)──▶ revoked
              └──────(fal answered 401: mark_unauthorized)──▶ rejected ──(revoke)──▶ revoked

New work uses the newest active key, else the newest retiring one (fail-over), never a rejected
or revoked one. Work in flight looks its key up by fal key id and keeps it unless it is revoked;
revoking also wipes the ciphertext. A row's id derives from the fal key id (the part before
`:`), so a key is stored once and matched by id, never by secret.

A secret (`key_id:key_secret`) is sealed with AES-256-GCM under the current master key, with the
row id in the associated data, so a ciphertext copied onto another row does not decrypt.
`headshot.services.fal_keys` adapts this to the fal engine and to fal's key API.

Errors: `InvalidInputError` (not a fal key), `NotFoundError`, `ConflictError` (stored already,
revoked); `CryptoError` when a secret cannot be unsealed with the keyring at hand.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from headshot.domain.errors import ConflictError, InvalidInputError, NotFoundError
from headshot.engines.fal.client import FalKey
from headshot.services.audit import AuditLog
from headshot.storage.crypto import MasterKeyring, decrypt_bytes, encrypt_bytes
from headshot.storage.db import Database
from headshot.storage.records import ProviderKey

KeyScope = Literal["API", "ADMIN"]
KeyState = Literal["active", "retiring", "rejected", "revoked"]
USABLE: tuple[KeyState, ...] = ("active", "retiring")
# The key id goes into fal's URL paths; the secret is any visible ASCII.
_KEY_SHAPE = re.compile(r"([A-Za-z0-9_.-]{1,100}):([\x21-\x7e]{8,256})")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderKeyView:
    id: str
    provider: str
    label: str
    hint: str  # the fal key id's start and the secret's last four characters
    scope: KeyScope
    state: KeyState
    created_at: datetime
    retired_at: datetime | None
    revoked_at: datetime | None


def parse_key(value: str) -> FalKey:
    """`key_id:key_secret` → FalKey; anything else is an `InvalidInputError`."""
    match = _KEY_SHAPE.fullmatch(value.strip())
    if match is None:
        raise InvalidInputError("A fal key has the form key_id:key_secret.", code="invalid_key")
    return FalKey(match[1], match[2])


def key_row_id(key_id: str) -> str:
    """The row id of a fal key id (so the same key is never stored twice)."""
    return hashlib.sha256(b"headshot fal key\x00" + key_id.encode()).hexdigest()[:32]


class ProviderKeys:
    def __init__(
        self,
        *,
        db: Database,
        keyring: MasterKeyring,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._audit = audit
        self._clock = clock

    def add(
        self, secret: str, *, label: str, scope: KeyScope = "API", by: str | None = None
    ) -> ProviderKeyView:
        """Store a key as its scope's active key; the previous active one becomes retiring, so
        work in flight finishes on it."""
        return self._add(parse_key(secret), label=label, scope=scope, actor="operator", by=by)

    def get(self, key: str) -> ProviderKeyView:
        with self._db.transaction() as db:
            return _view(_row(db, key))

    def retire(self, key: str, *, by: str | None = None) -> ProviderKeyView:
        """Stop choosing this key for new work while another key is usable."""
        with self._db.transaction() as db:
            row = _row(db, key)
            if row.state == "revoked":
                raise ConflictError("That key is revoked.", code="key_revoked")
            if row.state == "active":
                row.state, row.retired_at = "retiring", self._clock()
                self._record(db, "provider_key.retire", row, by=by)
            return _view(row)

    def revoke(self, key: str, *, by: str | None = None) -> ProviderKeyView:
        """Never use this key again, not even for work in flight. Idempotent."""
        with self._db.transaction() as db:
            row = _row(db, key)
            if row.state != "revoked":
                now = self._clock()
                row.state, row.revoked_at, row.retired_at = "revoked", now, row.retired_at or now
                row.secret_ciphertext = b""  # nothing left to use or to leak
                self._record(db, "provider_key.revoke", row, by=by)
            return _view(row)

    def mark_unauthorized(self, key_id: str) -> None:
        """fal answered 401 for this fal key id: new work moves to the next usable key."""
        with self._db.transaction() as db:
            row = db.get(ProviderKey, key_row_id(key_id), with_for_update=True)
            if row is None or row.state not in USABLE:
                return
            row.state, row.retired_at = "rejected", row.retired_at or self._clock()
            self._record(db, "provider_key.rejected", row, actor="system", by=None)
            hint = row.key_hint
        log.warning("fal refused the key %s; it is no longer used for new work", hint)

    def import_from_settings(self, secret: str, *, scope: KeyScope = "API") -> bool:
        """Store a configured key (`HEADSHOT_FAL_KEY`) as active unless it is stored already, in
        whatever state; True when it was stored now."""
        try:
            self._add(
                parse_key(secret), label="from settings", scope=scope, actor="system", by=None
            )
        except ConflictError:
            return False  # stored already (perhaps retired or revoked since): leave it so
        return True

    def rewrap(self, ring: MasterKeyring) -> int:
        """Re-seal every stored secret under ring's current master key and use ring from now on;
        returns how many were re-sealed. ring must still hold the keys they are sealed with."""
        count = 0
        with self._db.transaction() as db:
            for row in db.scalars(select(ProviderKey).with_for_update()):
                if row.state == "revoked" or row.master_key_id == ring.current.key_id:
                    continue
                _seal(row, _open(row, ring), ring)
                count += 1
        self._keyring = ring
        return count

    def master_keys_in_use(self) -> frozenset[str]:
        """Master key ids that seal stored secrets now (see `keyring.retire_previous`)."""
        with self._db.transaction() as db:
            query = select(ProviderKey.master_key_id).where(ProviderKey.state != "revoked")
            return frozenset(db.scalars(query))

    def usable(self, scope: KeyScope) -> FalKey | None:
        """The key new work of this scope uses: the newest active, else the newest retiring."""
        with self._db.transaction() as db:
            rows = list(db.scalars(_in_states(scope, USABLE)))
            if not rows:
                return None
            best = max(rows, key=lambda r: (r.state == "active", r.created_at, r.id))
            return _open(best, self._keyring)

    def secret(self, key_id: str) -> str | None:
        """The secret of a stored fal key id unless it is revoked or unknown (then None)."""
        with self._db.transaction() as db:
            row = db.get(ProviderKey, key_row_id(key_id))
            if row is None or row.state == "revoked":
                return None
            return _open(row, self._keyring).secret

    def fal_key(self, key: str) -> FalKey | None:
        """The fal key stored under this row id, or None once it is revoked."""
        with self._db.transaction() as db:
            row = _row(db, key)
            return None if row.state == "revoked" else _open(row, self._keyring)

    def list(self) -> list[ProviderKeyView]:
        """Every stored key, newest first (hints only, never secrets)."""
        with self._db.transaction() as db:
            query = select(ProviderKey).order_by(ProviderKey.created_at.desc(), ProviderKey.id)
            return [_view(row) for row in db.scalars(query)]

    def _add(
        self, key: FalKey, *, label: str, scope: KeyScope, actor: str, by: str | None
    ) -> ProviderKeyView:
        row_id = key_row_id(key.key_id)
        try:
            with self._db.transaction() as db:
                if db.get(ProviderKey, row_id) is not None:
                    raise _duplicate()
                now = self._clock()
                for old in db.scalars(_in_states(scope, ("active",)).with_for_update()):
                    old.state, old.retired_at = "retiring", now
                hint = f"{key.key_id[:8]}…{key.secret[-4:]}"
                row = ProviderKey(id=row_id, provider="fal", label=label.strip()[:100] or "fal key")
                row.key_hint, row.scope, row.state, row.created_at = hint, scope, "active", now
                _seal(row, key, self._keyring)
                db.add(row)
                db.flush()
                self._record(db, "provider_key.add", row, actor=actor, by=by)
                return _view(row)
        except IntegrityError:
            raise _duplicate() from None  # a concurrent add of the same key won

    def _record(
        self, db: Session, action: str, row: ProviderKey, *, actor: str = "operator", by: str | None
    ) -> None:
        detail = {"scope": row.scope, "hint": row.key_hint, "state": row.state}
        self._audit.record(
            db,
            subject=None,
            actor=actor,
            action=action,
            resource=("provider_key", row.id),
            detail={**detail, "by": by} if by else detail,
        )


def _duplicate() -> ConflictError:
    return ConflictError("That fal key is stored already.", code="duplicate_key")


def _in_states(scope: KeyScope, states: Collection[str]) -> Select[ProviderKey]:
    return select(ProviderKey).where(ProviderKey.scope == scope, ProviderKey.state.in_(states))


def _row(db: Session, key: str) -> ProviderKey:
    row = db.get(ProviderKey, key)
    if row is None:
        raise NotFoundError("No provider key with that id.")
    return row


def _aad(row_id: str) -> bytes:
    return b"headshot provider key\x00" + row_id.encode()


def _seal(row: ProviderKey, key: FalKey, ring: MasterKeyring) -> None:
    plain = f"{key.key_id}:{key.secret}".encode()
    row.secret_ciphertext = encrypt_bytes(
        ring.current.material, plain, associated_data=_aad(row.id)
    )
    row.master_key_id = ring.current.key_id


def _open(row: ProviderKey, ring: MasterKeyring) -> FalKey:
    material = ring.get(row.master_key_id).material
    plain = decrypt_bytes(material, row.secret_ciphertext, associated_data=_aad(row.id))
    key_id, _, secret = plain.decode().partition(":")
    return FalKey(key_id, secret)


def _view(row: ProviderKey) -> ProviderKeyView:
    return ProviderKeyView(
        id=row.id,
        provider=row.provider,
        label=row.label,
        hint=row.key_hint,
        scope=cast(KeyScope, row.scope),
        state=cast(KeyState, row.state),
        created_at=row.created_at,
        retired_at=row.retired_at,
        revoked_at=row.revoked_at,
    )
