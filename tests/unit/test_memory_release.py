"""Freed memory goes back to the operating system after heavy work (glibc's malloc_trim)."""

from __future__ import annotations

import platform

import pytest

from headshot.observability import memory


def test_freed_memory_is_given_back_on_glibc() -> None:
    released = memory.release_free_memory()
    assert released == (platform.libc_ver()[0] == "glibc")


def test_without_a_trimming_allocator_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    assert memory.release_free_memory() is False
