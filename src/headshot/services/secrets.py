"""Password hashing (argon2id) and opaque bearer secrets stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from headshot.domain.errors import ServerBusyError

SESSION_PREFIX = "hs_s_"
API_TOKEN_PREFIX = "hs_pat_"
SHARE_PREFIX = "hs_sh_"
T = TypeVar("T")
HASHING_BUSY = "Many people are signing in right now. Please try again in a moment."


class Passwords:
    """argon2id with the library's RFC 9106 low-memory profile.

    Each hash or verification holds 64 MiB while it runs, so at most `at_once` run together:
    16 people signing in at the same moment would otherwise take 1 GiB, and a flood of wrong
    logins any amount. Others wait up to `wait_s`, then get `ServerBusyError` (503).
    """

    def __init__(
        self, hasher: PasswordHasher | None = None, *, at_once: int = 2, wait_s: float = 10.0
    ) -> None:
        self._hasher = hasher or PasswordHasher()
        self._slots = threading.BoundedSemaphore(at_once)
        self._wait_s = wait_s
        # Verifying against this keeps unknown-email logins as slow as wrong-password ones.
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        return self._bounded(lambda: self._hasher.hash(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                    password_hash is not None
                )
            except (VerificationError, InvalidHashError):
                return False

        return self._bounded(check)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _bounded(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(timeout=self._wait_s):
            raise ServerBusyError(HASHING_BUSY, retry_after_s=2)
        try:
            return work()
        finally:
            self._slots.release()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
