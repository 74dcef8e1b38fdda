"""What job code remembers about a job at the provider, as typed values.

The records keep these as JSON (`trainings.provider_handle`, `generations.provider_request_ids`);
this module is the one place that reads and writes that JSON, in the shape other readers
(erasure, key rotation, webhooks) already rely on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

# Bookkeeping keys of a training's JSON; everything else there is the engine's handle data.
_TRAINING_KEYS = frozenset(
    {"sent_after", "request_id_hint", "reconcile_attempts", "polls", "cancel_sent", "retries"}
)


@dataclass(frozen=True)
class TrainingProviderState:
    """A remote training: when its submit was sent, what reconciliation knows, the handle."""

    handle: Mapping[str, Any] | None = None  # the engine's handle data once the submit is known
    sent_after: datetime | None = None  # set just before the paid submit
    request_id_hint: str | None = None  # from a lost answer or a webhook
    reconcile_attempts: int = 0
    polls: int = 0
    cancel_sent: bool = False
    retries: int = 0  # calls the provider did not take in a row (the backoff's exponent)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> TrainingProviderState:
        data = data or {}
        handle = {k: v for k, v in data.items() if k not in _TRAINING_KEYS}
        known = bool(handle.get("request_id") or handle.get("status_url"))
        hint = data.get("request_id_hint")
        return cls(
            handle=handle if known else None,
            sent_after=_when(data.get("sent_after")),
            request_id_hint=str(hint) if hint else None,
            reconcile_attempts=int(data.get("reconcile_attempts", 0)),
            polls=int(data.get("polls", 0)),
            cancel_sent=bool(data.get("cancel_sent", False)),
            retries=int(data.get("retries", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.handle or {})
        if self.handle is not None:
            data["polls"] = self.polls
        else:
            data["sent_after"] = self.sent_after.isoformat() if self.sent_after else None
            data["request_id_hint"] = self.request_id_hint
            data["reconcile_attempts"] = self.reconcile_attempts
        if self.cancel_sent:
            data["cancel_sent"] = True
        if self.retries:
            data["retries"] = self.retries
        return data

    def started(self, handle: Mapping[str, Any]) -> TrainingProviderState:
        """The submit is known to the provider: keep the handle, forget the reconciliation."""
        return TrainingProviderState(handle=dict(handle), cancel_sent=self.cancel_sent)


# waiting: the provider did not take the submit (provably), it is sent again later.
LookState = Literal["waiting", "submitting", "ambiguous", "running", "done", "failed"]


@dataclass(frozen=True)
class LookSubmission:
    """One look of a remote generation at the provider (one per look, written before the paid
    submit as `submitting`)."""

    look: int
    state: LookState
    sent_after: datetime | None = None
    request_id_hint: str | None = None
    attempts: int = 0  # reconciliation checks so far
    handle: Mapping[str, Any] | None = None
    reason: str | None = None  # why a `failed` look was given up
    retries: int = 0  # provider calls for this look not taken in a row (the backoff's exponent)
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LookSubmission:
        known = {"look", "state", "sent_after", "hint", "attempts", "handle", "reason", "retries"}
        hint, handle, reason = data.get("hint"), data.get("handle"), data.get("reason")
        return cls(
            look=int(data["look"]),
            state=data.get("state", "submitting"),
            sent_after=_when(data.get("sent_after")),
            request_id_hint=str(hint) if hint else None,
            attempts=int(data.get("attempts", 0)),
            handle=dict(handle) if isinstance(handle, Mapping) else None,
            reason=str(reason) if reason else None,
            retries=int(data.get("retries", 0)),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.extra, "look": self.look, "state": self.state}
        if self.sent_after is not None:
            data["sent_after"] = self.sent_after.isoformat()
        if self.request_id_hint is not None:
            data["hint"] = self.request_id_hint
        if self.attempts:
            data["attempts"] = self.attempts
        if self.handle is not None:
            data["handle"] = dict(self.handle)
        if self.reason is not None:
            data["reason"] = self.reason
        if self.retries:
            data["retries"] = self.retries
        return data

    def request_ids(self) -> list[str]:
        """The provider's ids for this look's requests (one per batch), once it has a handle."""
        handle = self.handle or {}
        candidates = [handle.get("request_id")]
        candidates += [r.get("request_id") for r in handle.get("requests") or [] if r]
        return list(dict.fromkeys(str(c) for c in candidates if c))

    def running(self, handle: Mapping[str, Any]) -> LookSubmission:
        return LookSubmission(look=self.look, state="running", handle=dict(handle))

    def given_up(self, reason: str) -> LookSubmission:
        return replace(self, state="failed", reason=reason)


def looks_from_json(entries: Sequence[Any] | None) -> dict[int, LookSubmission]:
    return {
        int(e["look"]): LookSubmission.from_json(e)
        for e in entries or []
        if isinstance(e, Mapping) and "look" in e
    }


def looks_to_json(looks: Mapping[int, LookSubmission]) -> list[dict[str, Any]]:
    return [looks[index].to_json() for index in sorted(looks)]


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
