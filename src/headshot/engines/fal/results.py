"""Reading fal's answers: queue status bodies into `JobStatus`, result bodies into file refs.

fal has no FAILED or CANCELLED state: a failed request is COMPLETED with `error`/`error_type`,
and a cancelled one is reported the same way (the exact error_type is not documented, so any
error mentioning cancellation counts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from headshot.engines.fal.progress import parse_progress
from headshot.engines.protocol import EngineError, JobStatus

LOG_TAIL = 20
_STATE_ORDER = ("failed", "cancelled", "queued", "running", "succeeded")


@dataclass(frozen=True)
class FileRef:
    url: str
    content_type: str | None
    file_name: str | None
    width: int | None = None
    height: int | None = None


def job_status(body: Any) -> JobStatus:
    if not isinstance(body, Mapping):
        raise EngineError("fal status answer is not an object")
    status = body.get("status")
    logs = [entry for entry in body.get("logs") or () if isinstance(entry, Mapping)]
    tail = tuple(str(entry.get("message", "")) for entry in logs[-LOG_TAIL:])
    if status == "IN_QUEUE":
        position = body.get("queue_position")
        return JobStatus(
            state="queued",
            stage="in_queue",
            queue_position=position if isinstance(position, int) else None,
            logs=tail,
        )
    if status == "IN_PROGRESS":
        progress = parse_progress(logs)
        if progress is None:
            return JobStatus(state="running", stage="starting", logs=tail)
        return JobStatus(
            state="running",
            stage="training",
            progress=progress.fraction,
            eta_s=progress.eta_s,
            logs=tail,
        )
    if status == "COMPLETED":
        return _completed(body, tail)
    raise EngineError(f"fal reported an unknown status {status!r}")


def _completed(body: Mapping[str, Any], tail: tuple[str, ...]) -> JobStatus:
    error = body.get("error")
    if not error:
        return JobStatus(state="succeeded", stage="completed", progress=1.0, logs=tail)
    error_type = str(body.get("error_type") or "")
    text = f"{error} ({error_type})" if error_type else str(error)
    if "cancel" in f"{error} {error_type}".lower():
        return JobStatus(state="cancelled", stage="cancelled", logs=tail, error=text)
    return JobStatus(state="failed", stage="failed", logs=tail, error=text)


def merge_statuses(statuses: Sequence[JobStatus]) -> JobStatus:
    """One status for a generation split over several fal requests: the least advanced (or a
    failure) wins, and progress is the mean."""
    if len(statuses) == 1:
        return statuses[0]
    worst = min(statuses, key=lambda status: _STATE_ORDER.index(status.state))
    known = [status.progress or 0.0 for status in statuses]
    positions = [s.queue_position for s in statuses if s.queue_position is not None]
    return JobStatus(
        state=worst.state,
        stage=worst.stage,
        progress=sum(known) / len(known),
        queue_position=max(positions) if positions else None,
        logs=tuple(line for status in statuses for line in status.logs)[-LOG_TAIL:],
        error=worst.error,
    )


def file_ref(value: Any, *, what: str) -> FileRef:
    if not isinstance(value, Mapping) or not isinstance(value.get("url"), str):
        raise EngineError(f"fal result lacks a {what} file")
    width, height = value.get("width"), value.get("height")
    return FileRef(
        url=value["url"],
        content_type=_optional_str(value.get("content_type")),
        file_name=_optional_str(value.get("file_name")),
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
    )


def image_refs(body: Any) -> tuple[list[FileRef], list[bool], int | None]:
    """The images, one NSFW flag per image (missing flags read as not flagged), the seed."""
    if not isinstance(body, Mapping) or not isinstance(body.get("images"), list):
        raise EngineError("fal generation result lacks images")
    refs = [file_ref(item, what="image") for item in body["images"]]
    flags = body.get("has_nsfw_concepts")
    flags = list(flags) if isinstance(flags, list) else []
    nsfw = [bool(flags[i]) if i < len(flags) else False for i in range(len(refs))]
    seed = body.get("seed")
    return refs, nsfw, seed if isinstance(seed, int) else None


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
