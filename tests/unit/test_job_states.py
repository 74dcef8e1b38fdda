"""The job state machine, the typed provider state and its JSON, and the retry backoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from headshot.domain.backoff import Backoff
from headshot.domain.errors import ConflictError
from headshot.domain.jobs import ACTIVE, TERMINAL, Status, move
from headshot.domain.provider_state import (
    LookSubmission,
    TrainingProviderState,
    looks_from_json,
    looks_to_json,
)

SENT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class JobRow:
    status: str


def test_a_move_the_machine_allows_is_written_as_its_plain_value() -> None:
    job = JobRow("queued")
    move(job, Status.SUBMITTING)
    move(job, Status.AMBIGUOUS)
    move(job, Status.AMBIGUOUS)  # a step that runs twice writes the same state again
    move(job, Status.RUNNING)
    move(job, Status.PARTIAL)
    assert job.status == "partial" and type(job.status) is str


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("succeeded", Status.RUNNING),
        ("cancelled", Status.CANCELLED),  # an ended job is never written again
        ("queued", Status.SUCCEEDED),
        ("fetching", Status.PARTIAL),
        ("running", Status.QUEUED),
    ],
)
def test_a_move_the_machine_does_not_allow_is_refused(current: str, target: Status) -> None:
    job = JobRow(current)
    with pytest.raises(ConflictError):
        move(job, target)
    assert job.status == current


def test_every_status_is_active_or_terminal() -> None:
    assert {s.value for s in Status} == ACTIVE | TERMINAL and not ACTIVE & TERMINAL


def test_training_state_reads_what_older_rows_hold_and_writes_the_same_shape() -> None:
    submitting = {"sent_after": SENT.isoformat(), "request_id_hint": "r-1"}
    state = TrainingProviderState.from_json(submitting)
    assert state.handle is None and state.sent_after == SENT and state.request_id_hint == "r-1"
    started = state.started({"request_id": "r-1", "status_url": "https://q/s", "key_id": "k"})
    assert started.to_json() == {
        "request_id": "r-1",
        "status_url": "https://q/s",
        "key_id": "k",
        "polls": 0,
    }
    again = TrainingProviderState.from_json({**started.to_json(), "polls": 4, "cancel_sent": True})
    assert again.polls == 4 and again.cancel_sent
    assert again.handle == {"request_id": "r-1", "status_url": "https://q/s", "key_id": "k"}


def test_look_submissions_round_trip_and_keep_keys_they_do_not_know() -> None:
    saved = [
        {"look": 1, "state": "running", "handle": {"requests": [{"request_id": "a"}]}},
        {"look": 0, "state": "ambiguous", "sent_after": SENT.isoformat(), "hint": "h", "x": 1},
    ]
    looks = looks_from_json(saved)
    assert looks[0] == LookSubmission(
        look=0, state="ambiguous", sent_after=SENT, request_id_hint="h", extra={"x": 1}
    )
    assert looks_to_json(looks) == sorted(saved, key=lambda e: int(str(e["look"])))
    failed = looks[0].given_up("gone")
    assert failed.state == "failed" and failed.to_json()["reason"] == "gone"


def test_backoff_doubles_with_jitter_is_capped_and_honours_retry_after() -> None:
    backoff = Backoff(first_s=10, max_s=100)
    assert backoff.delay(0, retry_after_s=None, draw=0.0) == 5.0  # half of 10
    assert backoff.delay(0, retry_after_s=None, draw=0.999999) == pytest.approx(10.0)
    assert backoff.delay(2, retry_after_s=None, draw=0.5) == 30.0  # ¾ of 40
    assert backoff.delay(9, retry_after_s=None, draw=0.5) == 75.0  # ¾ of the cap
    assert backoff.delay(1, retry_after_s=300, draw=0.5) == 300.0  # the provider asked for it
    assert backoff.delay(10_000, retry_after_s=None, draw=1.0) == 100.0  # no overflow
