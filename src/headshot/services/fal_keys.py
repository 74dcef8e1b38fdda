"""The stored provider keys as the fal engine sees them, and rotation through fal's key API.

`SqlFalCredentials` implements `FalCredentials` over `ProviderKeys`. `FalKeyRotation` uses the
stored ADMIN key to create a key at fal (`POST /v1/keys`) and later to delete the old one
(`DELETE /v1/keys/{key_id}`), so a rotation needs no dashboard visit and no downtime.

Errors: `ProviderAuthError` when no key is usable, or a key is revoked, unknown or cannot be
decrypted; `ConflictError` (no ADMIN key; old key still in use), `InvalidInputError` (not an API
key); fal's failures as in `headshot.engines.fal.client` (401 also marks the ADMIN key rejected).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from headshot.domain.errors import ConflictError, InvalidInputError
from headshot.domain.jobs import ACTIVE
from headshot.domain.provider_state import TrainingProviderState, looks_from_json
from headshot.engines.fal.client import FalKey, check_url, raise_for_status
from headshot.engines.protocol import EngineError, ProviderAuthError, RetryableEngineError
from headshot.services.provider_keys import KeyScope, ProviderKeys, ProviderKeyView, parse_key
from headshot.storage.crypto import CryptoError
from headshot.storage.db import Database
from headshot.storage.records import Generation, Training


class SqlFalCredentials:
    """`FalCredentials` over the stored keys, read on every call, so a key added, retired or
    revoked by another process (CLI, admin API) counts at once. Configured keys (settings) are
    stored on first use, since a worker may run before any server has started."""

    def __init__(
        self,
        keys: ProviderKeys,
        *,
        configured: str | None = None,
        configured_admin: str | None = None,
    ) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        pending: list[tuple[str, KeyScope]] = [(configured or "", "API")]
        pending.append((configured_admin or "", "ADMIN"))
        self._pending = [(secret, scope) for secret, scope in pending if secret]

    def __repr__(self) -> str:
        return "SqlFalCredentials()"

    def active(self) -> tuple[str, str]:
        self._import_configured()
        with _readable():
            key = self._keys.usable("API")
        if key is None:
            raise ProviderAuthError("no usable fal key: add one with `headshot keys add`")
        return key.key_id, key.secret

    def secret(self, key_id: str) -> str:
        self._import_configured()
        with _readable():
            secret = self._keys.secret(key_id)
        if secret is None:
            raise ProviderAuthError(f"fal key {key_id!r} is revoked or unknown")
        return secret

    def admin(self) -> tuple[str, str] | None:
        self._import_configured()
        with _readable():
            key = self._keys.usable("ADMIN")
        return (key.key_id, key.secret) if key else None

    def mark_unauthorized(self, key_id: str) -> None:
        """fal answered 401 for this key: new work moves on to the next usable key."""
        self._keys.mark_unauthorized(key_id)

    def _import_configured(self) -> None:
        if not self._pending:
            return
        with self._lock:
            for secret, scope in self._pending:  # idempotent: a second import is a no-op
                self._keys.import_from_settings(secret, scope=scope)
            self._pending = []  # the configured secrets need not stay in memory


class FalKeyRotation:
    """Rotate the API key through fal's key API, with the stored ADMIN key (docs/engines.md)."""

    def __init__(
        self,
        keys: ProviderKeys,
        *,
        db: Database,
        http: httpx.Client,
        api_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._keys = keys
        self._db = db
        self._http = http
        self._url = f"{api_url.rstrip('/')}/v1/keys"
        self._clock = clock

    def rotate(self, *, by: str | None = None) -> ProviderKeyView:
        """Create a key at fal and make it the active API key; the previous one becomes
        retiring, so work in flight finishes on it. Delete that one later with `finish`."""
        admin = self._admin_key()
        alias = f"headshot {self._clock():%Y-%m-%d}"
        created = _created_key(self._call("POST", self._url, admin=admin, body={"alias": alias}))
        try:
            return self._keys.add(f"{created.key_id}:{created.secret}", label=alias, by=by)
        except Exception:
            # A key fal made that we could not store would be a stray credential: delete it.
            with contextlib.suppress(EngineError, httpx.HTTPError):
                self._call("DELETE", f"{self._url}/{created.key_id}", admin=admin)
            raise

    def finish(self, key: str, *, by: str | None = None) -> ProviderKeyView:
        """Delete a retired API key at fal once new work no longer uses it and no job in flight
        holds it, then revoke it here. Idempotent."""
        old = self._deletable(key)
        if old is not None:
            # fal's DELETE is idempotent; a 404 means the key is gone already.
            url = f"{self._url}/{old.key_id}"
            self._call("DELETE", url, admin=self._admin_key(), ok_statuses={404})
        return self._keys.revoke(key, by=by)

    def _admin_key(self) -> FalKey:
        with _readable():
            admin = self._keys.usable("ADMIN")
        if admin is None:
            raise ConflictError(
                "No ADMIN fal key is stored; add one with `headshot keys add --scope ADMIN`.",
                code="no_admin_key",
            )
        return admin

    def _deletable(self, key: str) -> FalKey | None:
        if self._keys.get(key).scope != "API":
            raise InvalidInputError("Only API keys rotate through fal.", code="not_api_key")
        with _readable():
            old, current = self._keys.fal_key(key), self._keys.usable("API")
        if old is None:
            return None
        if current is None or current.key_id == old.key_id:
            raise ConflictError(
                "New work still uses that key; add or rotate in another key first.",
                code="key_in_use",
            )
        with self._db.transaction() as db:
            jobs = _jobs_using(db, old.key_id)
        if jobs:
            raise ConflictError(
                f"{jobs} job(s) in flight still use that key; try again when they finish.",
                code="key_in_use",
                details={"jobs": jobs},
            )
        return old

    def _call(
        self,
        method: str,
        url: str,
        *,
        admin: FalKey,
        body: dict[str, str] | None = None,
        ok_statuses: Collection[int] = (),
    ) -> Any:
        headers = {"Authorization": admin.authorization}
        try:
            response = self._http.request(method, check_url(url), headers=headers, json=body)
        except httpx.TransportError as exc:
            # A create may have reached fal: a stray key would then show in fal's dashboard.
            raise RetryableEngineError(f"fal's key API failed ({type(exc).__name__})") from exc
        if response.status_code == 401:
            self._keys.mark_unauthorized(admin.key_id)
        if response.status_code not in ok_statuses:
            raise_for_status(response, submit=False)
        try:
            return response.json() if response.content else None
        except ValueError:
            return None


@contextlib.contextmanager
def _readable() -> Iterator[None]:
    try:
        yield
    except CryptoError:
        # The engine treats this like a refused key; the operator must restore the master key.
        raise ProviderAuthError(
            "a stored fal key cannot be decrypted with the master keys at hand"
        ) from None


def _created_key(body: Any) -> FalKey:
    # fal answers {key_id, key_secret, key}; `key` is the joined form.
    if isinstance(body, dict):
        value = body.get("key") or f"{body.get('key_id')}:{body.get('key_secret')}"
        with contextlib.suppress(InvalidInputError):
            return parse_key(str(value))
    raise EngineError("fal's key API answered without a usable key")


def _jobs_using(db: Session, key_id: str) -> int:
    """Unfinished trainings and generations whose fal requests were made with this key."""
    trainings = db.scalars(select(Training.provider_handle).where(Training.status.in_(ACTIVE)))
    handles = [TrainingProviderState.from_json(saved).handle for saved in trainings]
    count = sum(1 for handle in handles if (handle or {}).get("key_id") == key_id)
    looks = db.scalars(select(Generation.provider_request_ids).where(Generation.status.in_(ACTIVE)))
    for entries in looks:
        submitted = [look.handle or {} for look in looks_from_json(entries).values()]
        count += any(handle.get("key_id") == key_id for handle in submitted)
    return count
