"""Password hashing holds 64 MiB per hash while it runs: at most `at_once` run together, and a
caller that cannot get a turn in time is told the server is busy (503) instead of piling up."""

from __future__ import annotations

import threading
import time

import pytest
from argon2 import PasswordHasher

from headshot.domain.errors import ServerBusyError
from headshot.services.secrets import Passwords


class CountingHasherDouble(PasswordHasher):
    """A real (cheap) argon2 hasher that records how many hashes ran at the same moment."""

    def __init__(self, *, gate: threading.Event | None = None) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.running = 0
        self.most = 0
        self.gate = gate
        self._lock = threading.Lock()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.gate is not None:
                self.gate.wait(5)
            time.sleep(0.02)
            return super().hash(password, salt=salt)
        finally:
            with self._lock:
                self.running -= 1


def test_at_most_the_configured_number_of_hashes_run_at_once() -> None:
    hasher = CountingHasherDouble()
    passwords = Passwords(hasher, at_once=2)
    threads = [threading.Thread(target=passwords.hash, args=("pw",)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.most == 2


def test_a_caller_without_a_turn_in_time_is_told_the_server_is_busy() -> None:
    gate = threading.Event()
    hasher = CountingHasherDouble()
    passwords = Passwords(hasher, at_once=1, wait_s=0.05)
    hasher.gate = gate  # the dummy hash at construction has passed: block the next ones
    holder = threading.Thread(target=passwords.hash, args=("first",))
    holder.start()
    while hasher.running == 0:
        time.sleep(0.001)
    with pytest.raises(ServerBusyError) as busy:
        passwords.verify(None, "second")
    assert busy.value.retry_after_s > 0 and "try again" in busy.value.message
    gate.set()
    holder.join()
    assert passwords.verify(passwords.hash("third"), "third")  # the turn is given back
