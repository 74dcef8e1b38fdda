"""Erasure (GDPR Art. 17): of a whole account, or of one session, photo, model version or
headshot. Every erasure answers with a deletion receipt.

Order of work, and why:
1. One transaction removes the rows (foreign keys cascade), writes the anonymous receipt and the
   provider deletions still owed. A crash before commit erases nothing; after it, everything
   below is owed by rows that survive the crash.
2. For an account, the data key row is deleted in that same transaction, so every blob of theirs
   (here, in a replica or in a backup) is unreadable from the commit on: crypto-shredding.
3. Blobs are deleted after the commit. A failure leaves unreadable ciphertext, never a row that
   points at nothing.
4. Provider deletions (fal payloads) run in the background, retried with backoff until the
   provider confirms each; the receipt turns complete when the last one is done.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from headshot.domain.errors import ConflictError, NotFoundError
from headshot.domain.jobs import ACTIVE
from headshot.domain.models import Principal
from headshot.domain.privacy import (
    DeletionReceiptView,
    ProviderDeletionView,
    ReceiptScope,
    generation_request_ids,
    retry_delay,
    summarise,
)
from headshot.domain.provider_state import TrainingProviderState, looks_from_json
from headshot.engines.protocol import Handle
from headshot.services.audit import AuditLog
from headshot.services.blobs import BlobJanitor
from headshot.services.secrets import digest
from headshot.storage.db import Database
from headshot.storage.records import (
    ApiToken,
    AuditEntry,
    AuthSession,
    Consent,
    DeletionReceipt,
    Generation,
    Headshot,
    Photo,
    PhotoSession,
    ProviderDeletion,
    RateLimitBucket,
    Share,
    Training,
    User,
)
from headshot.storage.scope import OwnerScope

log = logging.getLogger(__name__)

# While one process works on a provider deletion, others leave it alone this long.
CLAIM = timedelta(minutes=5)


@runtime_checkable
class ProviderPayloads(Protocol):
    """What erasure needs of a provider engine (the fal engine has both)."""

    def delete_payloads(self, request_id: str) -> bool: ...

    def cancel(self, handle: Handle) -> None: ...


class ShreddableBlobs(Protocol):
    def keys(self, user_id: str) -> Iterable[str]: ...

    def delete(self, user_id: str, key: str) -> None: ...

    def destroy_user_key(self, user_id: str) -> None: ...


@dataclass
class _Doomed:
    """What one erasure removes, gathered before the rows go."""

    blob_keys: list[str] = field(default_factory=list)
    owed: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def owe(self, provider: str, request_id: str, handle: dict[str, Any] | None) -> None:
        if request_id and all(r != request_id for _, r, _ in self.owed):
            self.owed.append((provider, request_id, handle))


class Erasure:
    def __init__(
        self,
        *,
        db: Database,
        blobs: ShreddableBlobs,
        janitor: BlobJanitor,
        audit: AuditLog,
        clock: Callable[[], datetime],
        providers: Mapping[str, ProviderPayloads],
        retry_s: float,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._janitor = janitor
        self._audit = audit
        self._clock = clock
        self._providers = providers
        self._retry_s = retry_s
        self._wake: Callable[[], object] | None = None

    def attach(self, wake: Callable[[], object]) -> None:
        """`wake` enqueues a provider-deletion run at once (bound by the job wiring)."""
        self._wake = wake

    # -- erasures -------------------------------------------------------------------------

    def erase_account(self, user_id: str, *, actor: str) -> DeletionReceiptView:
        """Everything of the user goes; the data key first, so leftovers are unreadable."""
        with self._db.transaction() as db:
            user = db.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFoundError("No such account.")
            doomed = _Doomed()
            scope = OwnerScope(db, user_id)
            self._gather_trainings(scope, doomed, Training.user_id == user_id)
            doomed.counts["sessions"] = _count(db, PhotoSession, user_id)
            doomed.counts["photos"] = _count(db, Photo, user_id)
            for model, name in (
                (Share, "shares"),
                (ApiToken, "api_tokens"),
                (AuthSession, "login_sessions"),
                (Consent, "consents"),
            ):
                doomed.counts[name] = _count(db, model, user_id)
            audit = db.execute(delete(AuditEntry).where(AuditEntry.subject_user_id == user_id))
            doomed.counts["audit_entries"] = int(getattr(audit, "rowcount", 0) or 0)
            db.execute(
                delete(RateLimitBucket).where(
                    RateLimitBucket.bucket == f"login:email:{digest(user.email)}"
                )
            )
            doomed.blob_keys = list(self._blobs.keys(user_id))
            doomed.counts["files"] = len(doomed.blob_keys)
            doomed.counts["account"] = 1
            # Cascades to every user-owned table, the data key included: shredded at commit.
            db.delete(user)
            db.flush()
            receipt = self._write_receipt(db, "account", doomed)
            self._audit.record(
                db, subject=None, actor=actor, action="account.erase", detail={"receipt": receipt}
            )
        # The key row is gone already; this drops any copy cached in this process.
        self._blobs.destroy_user_key(user_id)
        self._janitor.delete(user_id, doomed.blob_keys)
        return self._after(receipt)

    def delete_session(self, principal: Principal, session_id: str) -> DeletionReceiptView:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            row = scope.get(PhotoSession, session_id, for_update=True)
            doomed = _Doomed()
            self._gather_trainings(scope, doomed, Training.session_id == row.id)
            for photo in scope.all(Photo, Photo.session_id == row.id):
                _gather_photo(photo, doomed)
            doomed.counts["sessions"] = 1
            db.delete(row)
            receipt = self._finish(db, principal, "session", doomed, ("session", session_id))
        return self._cleanup(principal.user_id, doomed, receipt)

    def delete_photo(self, principal: Principal, photo_id: str) -> DeletionReceiptView:
        with self._db.transaction() as db:
            row = OwnerScope(db, principal.user_id).get(Photo, photo_id, for_update=True)
            doomed = _Doomed()
            _gather_photo(row, doomed)
            db.delete(row)
            receipt = self._finish(db, principal, "photo", doomed, ("photo", photo_id))
        return self._cleanup(principal.user_id, doomed, receipt)

    def delete_model(self, principal: Principal, model_id: str) -> DeletionReceiptView:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            row = scope.get(Training, model_id, for_update=True)
            if row.status in ACTIVE:
                raise ConflictError("Cancel this training before deleting it.", code="job_state")
            doomed = _Doomed()
            self._gather_trainings(scope, doomed, Training.id == row.id)
            db.delete(row)
            receipt = self._finish(db, principal, "model", doomed, ("model", model_id))
        return self._cleanup(principal.user_id, doomed, receipt)

    def delete_headshot(self, principal: Principal, headshot_id: str) -> DeletionReceiptView:
        with self._db.transaction() as db:
            scope = OwnerScope(db, principal.user_id)
            row = scope.get(Headshot, headshot_id, for_update=True)
            doomed = _Doomed()
            doomed.blob_keys += [k for k in (row.image_key, row.thumb_key) if k]
            doomed.counts.update(headshots=1, shares=_count_where(db, Share.headshot_id == row.id))
            generation = db.get(Generation, row.generation_id)
            if generation is not None and generation.engine in self._providers:
                # fal's copy of this image is an output of the generation's requests.
                for request_id in generation_request_ids(generation.provider_request_ids):
                    doomed.owe(generation.engine, request_id, None)
            db.delete(row)
            receipt = self._finish(db, principal, "headshot", doomed, ("headshot", headshot_id))
        return self._cleanup(principal.user_id, doomed, receipt)

    # -- receipts -------------------------------------------------------------------------

    def receipt(self, receipt_id: str) -> DeletionReceiptView:
        """A receipt by its id alone (no login: the person may have no account any more)."""
        with self._db.transaction() as db:
            row = db.get(DeletionReceipt, receipt_id) if _plausible_id(receipt_id) else None
            if row is None:
                raise NotFoundError("This deletion receipt does not exist.")
            return _receipt_view(db, row)

    # -- provider deletions, run by the background task ----------------------------------

    def run_provider_deletions(self, *, limit: int = 100) -> int:
        """Attempt every owed provider deletion that is due; returns how many were confirmed."""
        confirmed = 0
        for item_id, provider, request_id, handle in self._claim_due(limit):
            error = self._attempt(provider, request_id, handle)
            with self._db.transaction() as db:
                row = db.get(ProviderDeletion, item_id, with_for_update=True)
                if row is None:  # its receipt is gone
                    continue
                row.attempts += 1
                if error is None:
                    row.state, row.done_at, row.last_error = "done", self._clock(), None
                    confirmed += 1
                else:
                    row.last_error = error[:200]
                    row.next_attempt_at = self._clock() + retry_delay(
                        row.attempts, base_s=self._retry_s
                    )
                db.flush()
                _complete_if_done(db, row.receipt_id, self._clock())
        return confirmed

    def _claim_due(self, limit: int) -> list[tuple[int, str, str, dict[str, Any] | None]]:
        now = self._clock()
        with self._db.transaction() as db:
            query = (
                select(ProviderDeletion)
                .where(ProviderDeletion.state == "pending", ProviderDeletion.next_attempt_at <= now)
                .order_by(ProviderDeletion.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(db.scalars(query))
            for row in rows:
                row.next_attempt_at = now + CLAIM
            return [(r.id, r.provider, r.request_id, r.cancel_handle) for r in rows]

    def _attempt(self, provider: str, request_id: str, handle: dict[str, Any] | None) -> str | None:
        """None when the provider confirmed the deletion, else why not (no secret, no path)."""
        engine = self._providers.get(provider)
        if engine is None:
            return f"the {provider} engine is not configured here"
        try:
            if handle is not None:
                # A job still running would write new outputs after its payloads were deleted.
                engine.cancel(Handle(provider, handle["kind"], handle["data"]))
            if engine.delete_payloads(request_id):
                return None
            return "the provider did not confirm the deletion (is an ADMIN key configured?)"
        except Exception as exc:  # kept for the next attempt, whatever went wrong
            log.warning("provider deletion failed; retrying later", exc_info=True)
            return f"{type(exc).__name__}: the provider call failed"

    # -- helpers --------------------------------------------------------------------------

    def _gather_trainings(self, scope: OwnerScope, doomed: _Doomed, where: Any) -> None:
        for training in scope.all(Training, where):
            doomed.counts["model_versions"] += 1
            doomed.blob_keys += [k for k in (training.weights_key, training.dataset_key) if k]
            if training.engine in self._providers and training.provider_request_id:
                saved = TrainingProviderState.from_json(training.provider_handle)
                handle = saved.handle if training.status in ACTIVE else None
                running = {"kind": "training", "data": dict(handle)} if handle else None
                doomed.owe(training.engine, training.provider_request_id, running)
            for generation in scope.all(Generation, Generation.model_id == training.id):
                self._gather_generation(scope, generation, doomed)

    def _gather_generation(
        self, scope: OwnerScope, generation: Generation, doomed: _Doomed
    ) -> None:
        doomed.counts["generations"] += 1
        for headshot in scope.all(Headshot, Headshot.generation_id == generation.id):
            doomed.counts["headshots"] += 1
            doomed.counts["shares"] += _count_where(scope.db, Share.headshot_id == headshot.id)
            doomed.blob_keys += [k for k in (headshot.image_key, headshot.thumb_key) if k]
        if generation.engine not in self._providers:
            return
        active = generation.status in ACTIVE
        for look in looks_from_json(generation.provider_request_ids).values():
            handle = dict(look.handle or {})
            running = {"kind": "generation", "data": handle} if active and handle else None
            for request_id in look.request_ids():
                doomed.owe(generation.engine, request_id, running)

    def _finish(
        self,
        db: Session,
        principal: Principal,
        scope: ReceiptScope,
        doomed: _Doomed,
        resource: tuple[str, str],
    ) -> str:
        doomed.counts["files"] = len(doomed.blob_keys)
        receipt = self._write_receipt(db, scope, doomed)
        self._audit.record(
            db,
            subject=principal.user_id,
            actor="user",
            action=f"{scope}.delete",
            resource=resource,
            detail={"receipt": receipt},
        )
        return receipt

    def _write_receipt(self, db: Session, scope: ReceiptScope, doomed: _Doomed) -> str:
        now = self._clock()
        receipt = DeletionReceipt(
            id=secrets.token_urlsafe(32),
            scope=scope,
            created_at=now,
            completed_at=None if doomed.owed else now,
            deleted=summarise(doomed.counts),
        )
        db.add(receipt)
        db.flush()
        for provider, request_id, handle in doomed.owed:
            db.add(
                ProviderDeletion(
                    receipt_id=receipt.id,
                    provider=provider,
                    request_id=request_id,
                    cancel_handle=handle,
                    next_attempt_at=now,
                )
            )
        return receipt.id

    def _cleanup(self, user_id: str, doomed: _Doomed, receipt: str) -> DeletionReceiptView:
        # Rows went first: a crash between the two steps leaves unreferenced ciphertext only.
        self._janitor.delete(user_id, doomed.blob_keys)
        return self._after(receipt)

    def _after(self, receipt: str) -> DeletionReceiptView:
        view = self.receipt(receipt)
        if view.provider_pending and self._wake is not None:
            try:
                self._wake()
            except Exception:  # the periodic run picks it up
                log.warning("could not enqueue the provider deletions", exc_info=True)
        return view


def _gather_photo(photo: Photo, doomed: _Doomed) -> None:
    doomed.counts["photos"] += 1
    doomed.blob_keys += [k for k in (photo.original_key, photo.training_key, photo.thumb_key) if k]


def _count(db: Session, model: Any, user_id: str) -> int:
    return _count_where(db, model.user_id == user_id)


def _count_where(db: Session, where: Any) -> int:
    query: Select[int] = select(func.count()).where(where)
    return int(db.scalar(query) or 0)


def _complete_if_done(db: Session, receipt_id: str, now: datetime) -> None:
    pending = _count_where(
        db, (ProviderDeletion.receipt_id == receipt_id) & (ProviderDeletion.state == "pending")
    )
    receipt = db.get(DeletionReceipt, receipt_id)
    if receipt is not None and pending == 0 and receipt.completed_at is None:
        receipt.completed_at = now


def _plausible_id(receipt_id: str) -> bool:
    return 20 <= len(receipt_id) <= 64 and receipt_id.replace("-", "").replace("_", "").isalnum()


def _receipt_view(db: Session, row: DeletionReceipt) -> DeletionReceiptView:
    owed = db.scalars(
        select(ProviderDeletion)
        .where(ProviderDeletion.receipt_id == row.id)
        .order_by(ProviderDeletion.id)
    )
    return DeletionReceiptView(
        id=row.id,
        scope=row.scope,  # type: ignore[arg-type]
        status="complete" if row.completed_at is not None else "pending",
        created_at=row.created_at,
        completed_at=row.completed_at,
        deleted=dict(row.deleted),
        provider_deletions=tuple(
            ProviderDeletionView(d.provider, d.state, d.attempts, d.last_error) for d in owed
        ),
    )
