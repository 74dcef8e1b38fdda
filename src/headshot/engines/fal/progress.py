"""Progress and ETA read from runner log lines. fal documents no progress field, and the
trainer's log format is not specified, so the parser accepts the shapes trainers commonly print:
"step 120/2000", "Step 120 of 2000", and tqdm bars ("  6%|▌   | 120/2000 [01:00<15:40, 2.0it/s]").
Unparseable lines are ignored; no progress is better than a wrong one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_STEP = re.compile(r"\bsteps?\b\D{0,12}?(\d+)\s*(?:/|of)\s*(\d+)", re.IGNORECASE)
_TQDM = re.compile(r"(\d+)\s*/\s*(\d+)\s*\[\s*(?:[\d:]+)\s*<\s*([\d:]+)")


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total)


@dataclass(frozen=True)
class _Sample:
    step: int
    total: int
    at: datetime | None
    eta_s: float | None


def parse_progress(logs: Iterable[Mapping[str, Any]]) -> Progress | None:
    """The latest step seen, with an ETA from the step rate between the first and the last
    timestamped step lines (or from tqdm's own estimate when only that is available)."""
    samples = [sample for entry in logs if (sample := _sample(entry)) is not None]
    if not samples:
        return None
    last = samples[-1]
    eta = _eta_from_rate(samples) if len(samples) > 1 else None
    return Progress(last.step, last.total, eta if eta is not None else last.eta_s)


def _sample(entry: Mapping[str, Any]) -> _Sample | None:
    message = entry.get("message")
    if not isinstance(message, str):
        return None
    eta: float | None = None
    match = _STEP.search(message)
    if match is None:
        match = _TQDM.search(message)
        if match is None:
            return None
        eta = _clock_seconds(match.group(3))
    step, total = int(match.group(1)), int(match.group(2))
    if total <= 0 or step > total:
        return None
    return _Sample(step, total, _timestamp(entry.get("timestamp")), eta)


def _eta_from_rate(samples: list[_Sample]) -> float | None:
    first, last = samples[0], samples[-1]
    if first.at is None or last.at is None or last.total != first.total:
        return None
    elapsed = (last.at - first.at).total_seconds()
    done = last.step - first.step
    if elapsed <= 0 or done <= 0:
        return None
    return (last.total - last.step) * elapsed / done


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _clock_seconds(text: str) -> float | None:
    seconds = 0.0
    for part in text.split(":"):
        if not part.isdigit():
            return None
        seconds = seconds * 60 + int(part)
    return seconds
