"""The log parser behind progress and ETA: tolerant of the shapes trainers print."""

from __future__ import annotations

import pytest

from headshot.engines.fal.progress import parse_progress
from headshot.engines.fal.results import job_status


def _log(message: str, at: str | None = None) -> dict[str, object]:
    return {"message": message, "timestamp": at} if at else {"message": message}


@pytest.mark.parametrize(
    "message",
    ["step 120/2000", "Step 120 of 2000", "steps: 120 / 2000 loss=0.2", "[step=120/2000]"],
)
def test_step_formats(message: str) -> None:
    progress = parse_progress([_log(message)])
    assert progress is not None and (progress.step, progress.total) == (120, 2000)
    assert progress.fraction == pytest.approx(0.06)


def test_tqdm_bar_gives_its_own_eta() -> None:
    progress = parse_progress([_log(" 6%|▌     | 120/2000 [01:00<15:40,  2.00it/s]")])
    assert progress is not None and progress.step == 120
    assert progress.eta_s == 15 * 60 + 40


def test_eta_from_timestamped_step_rate() -> None:
    logs = [
        _log("step 100/1000", "2026-01-01T00:00:00Z"),
        _log("loading something else"),
        _log("step 300/1000", "2026-01-01T00:01:40Z"),
    ]
    progress = parse_progress(logs)
    assert progress is not None and progress.eta_s == pytest.approx(350.0)


@pytest.mark.parametrize(
    "logs",
    [
        [],
        [_log("Generating 2 image(s)")],
        [_log("step 5/0")],
        [_log("step 9/3")],
        [{"message": None}],
        [_log("step 1/10", "not a time"), _log("step 2/10", "also not")],
    ],
)
def test_unparseable_logs_give_no_progress_or_eta(logs: list[dict[str, object]]) -> None:
    progress = parse_progress(logs)
    assert progress is None or progress.eta_s is None


def test_status_mapping() -> None:
    queued = job_status({"status": "IN_QUEUE", "queue_position": 3})
    assert (queued.state, queued.queue_position) == ("queued", 3)
    starting = job_status({"status": "IN_PROGRESS", "logs": None})
    assert (starting.state, starting.stage, starting.progress) == ("running", "starting", None)
    failed = job_status({"status": "COMPLETED", "error": "boom", "error_type": "runner_error"})
    assert (failed.state, failed.error) == ("failed", "boom (runner_error)")
    done = job_status({"status": "COMPLETED", "logs": [{"message": "done"}]})
    assert (done.state, done.progress, done.logs) == ("succeeded", 1.0, ("done",))
