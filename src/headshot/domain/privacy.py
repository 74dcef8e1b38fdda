"""Erasure rules free of I/O: what a deletion receipt says, and how owed provider deletions are
retried."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from headshot.domain.backoff import Backoff
from headshot.domain.provider_state import looks_from_json

ReceiptScope = Literal["account", "session", "photo", "model", "headshot"]
ReceiptStatus = Literal["pending", "complete"]

# A provider that keeps failing is asked again at most once a day, for as long as it takes.
MAX_RETRY = timedelta(days=1)


@dataclass(frozen=True)
class ProviderDeletionView:
    provider: str
    state: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class DeletionReceiptView:
    """What an erasure removed. It names no person: its unguessable id is its only key."""

    id: str
    scope: ReceiptScope
    status: ReceiptStatus
    created_at: datetime
    completed_at: datetime | None
    deleted: Mapping[str, int]
    provider_deletions: tuple[ProviderDeletionView, ...]

    @property
    def provider_pending(self) -> int:
        return sum(1 for d in self.provider_deletions if d.state == "pending")

    @property
    def provider_done(self) -> int:
        return sum(1 for d in self.provider_deletions if d.state == "done")


def retry_delay(attempts: int, *, base_s: float, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter over the upper half, capped at `MAX_RETRY`."""
    backoff = Backoff(base_s, MAX_RETRY.total_seconds())
    draw = (rng or random).random()
    return timedelta(seconds=backoff.delay(max(attempts - 1, 0), retry_after_s=None, draw=draw))


def generation_request_ids(entries: Sequence[Any] | None) -> list[str]:
    """The provider request ids in a generation's per-look entries (one or more per look)."""
    found: list[str] = []
    for look in looks_from_json(entries).values():
        found += [r for r in look.request_ids() if r not in found]
    return found


def summarise(counts: Mapping[str, int]) -> dict[str, int]:
    """The receipt's `deleted` section: what was there, zeros left out."""
    return {name: count for name, count in sorted(counts.items()) if count}


# What each count of a receipt names, singular and plural, in the app's words.
_NOUNS: dict[str, tuple[str, str]] = {
    "account": ("account", "accounts"),
    "sessions": ("batch", "batches"),
    "photos": ("photo", "photos"),
    "model_versions": ("model version", "model versions"),
    "generations": ("generation", "generations"),
    "headshots": ("headshot", "headshots"),
    "shares": ("share link", "share links"),
    "api_tokens": ("API token", "API tokens"),
    "login_sessions": ("sign-in", "sign-ins"),
    "consents": ("consent record", "consent records"),
    "audit_entries": ("access log entry", "access log entries"),
    "files": ("stored file", "stored files"),
}


def count_phrase(count: int, name: str) -> str:
    """ "1 generation", "2 generations": a receipt count in plain words."""
    singular, plural = _NOUNS.get(name, (name.replace("_", " "), name.replace("_", " ")))
    return f"{count} {singular if count == 1 else plural}"


def describe_deleted(deleted: Mapping[str, int]) -> list[str]:
    """The receipt's counts as phrases, in the order of `_NOUNS` (unknown names last)."""
    order = [name for name in _NOUNS if name in deleted]
    order += sorted(name for name in deleted if name not in _NOUNS)
    return [count_phrase(deleted[name], name) for name in order if deleted[name]]
