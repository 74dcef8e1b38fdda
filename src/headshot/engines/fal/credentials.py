"""Where `FalEngine` gets its keys. New submits use the active key; polls, fetches and cancels
use the key recorded in the handle, so in-flight work finishes on the key that started it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from headshot.engines.protocol import ProviderAuthError


class FalCredentials(Protocol):
    def active(self) -> tuple[str, str]:
        """(key_id, secret) of the key new submits must use."""
        ...

    def secret(self, key_id: str) -> str:
        """The secret of a (possibly retired) key; raise `ProviderAuthError` if it is gone."""
        ...

    def admin(self) -> tuple[str, str] | None:
        """(key_id, secret) of an ADMIN-scoped key (payload deletion), or None."""
        ...

    def mark_unauthorized(self, key_id: str) -> None:
        """fal answered 401 for this key: stop choosing it for new work."""
        ...


def split_key(key: str) -> tuple[str, str]:
    """`key_id:key_secret` → (key_id, secret)."""
    key_id, sep, secret = key.strip().partition(":")
    if not sep or not key_id or not secret:
        raise ValueError("a fal key has the form key_id:key_secret")
    return key_id, secret


class StaticFalCredentials:
    """Keys held in memory: the first is active; the rest are retired but still resolvable."""

    def __init__(self, keys: Iterable[str], *, admin_key: str | None = None) -> None:
        pairs = [split_key(key) for key in keys]
        if not pairs:
            raise ValueError("at least one fal key is needed")
        self._active = pairs[0]
        self._secrets = dict(pairs)
        self._admin = split_key(admin_key) if admin_key else None

    def __repr__(self) -> str:
        return f"StaticFalCredentials(active={self._active[0]!r}, keys={len(self._secrets)})"

    def active(self) -> tuple[str, str]:
        return self._active

    def secret(self, key_id: str) -> str:
        try:
            return self._secrets[key_id]
        except KeyError:
            raise ProviderAuthError(f"fal key {key_id!r} is no longer configured") from None

    def admin(self) -> tuple[str, str] | None:
        return self._admin

    def mark_unauthorized(self, key_id: str) -> None:
        # Static keys come from configuration: only an operator can replace them.
        del key_id
