"""The double's queue model: requests advance by ticks (status polls, or `advance()` calls),
through IN_QUEUE (positions counting down), IN_PROGRESS (trainer logs "step N/M" with
timestamps on the double's clock) and COMPLETED (result, or an error)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

TRAINER = "fal-ai/flux-lora-portrait-trainer"
GENERATOR = "fal-ai/flux-lora"
EPOCH = 1_800_000_000.0  # 2027-01-15; the double's clock starts here
Phase = Literal["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


class DoubleClock:
    """Unix seconds, moved only by tests (and by the double's simulated step time)."""

    def __init__(self, start: float = EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass(frozen=True)
class Pace:
    queue_ticks: int = 2  # ticks spent IN_QUEUE: positions queue_ticks-1 .. 0
    run_ticks: int = 4  # ticks spent IN_PROGRESS
    step_seconds: float = 0.5  # simulated seconds per training step, for log timestamps
    advance_per_poll: int = 1  # ticks each status poll moves its request; 0 = only advance()


@dataclass
class FakeRequest:
    request_id: str
    endpoint: str
    input: dict[str, Any]
    created_at: float
    store_io: bool
    webhook_url: str | None
    seed: int
    headers: dict[str, str]
    ticks: int = 0
    cancelled: bool = False
    cancel_requested: bool = False
    failure: str | None = None  # the model error a `fail_request` fault scheduled
    files: dict[str, str] = field(default_factory=dict)  # output name -> URL

    def phase(self, pace: Pace) -> Phase:
        if self.cancelled or self.ticks >= pace.queue_ticks + pace.run_ticks:
            return "COMPLETED"
        return "IN_QUEUE" if self.ticks < pace.queue_ticks else "IN_PROGRESS"

    def tick(self, pace: Pace) -> bool:
        """Advance one tick; True when this tick completed the request."""
        if self.phase(pace) == "COMPLETED":
            return False
        if self.cancel_requested:
            self.cancelled = True
        else:
            self.ticks += 1
        return self.phase(pace) == "COMPLETED"

    @property
    def error(self) -> tuple[str, str] | None:
        if self.cancelled:
            return "Request was cancelled by the client", "client_cancelled"
        if self.failure:
            return self.failure, "image_load_error"
        return None

    def status_body(self, pace: Pace, *, with_logs: bool, response_url: str) -> dict[str, Any]:
        phase = self.phase(pace)
        body: dict[str, Any] = {
            "status": phase,
            "request_id": self.request_id,
            "response_url": response_url,
        }
        if phase == "IN_QUEUE":
            body["queue_position"] = pace.queue_ticks - 1 - self.ticks
            return body
        body["logs"] = self.logs(pace) if with_logs else None
        if phase == "COMPLETED":
            body["metrics"] = {"inference_time": 1.5}
            if self.error:
                body["error"], body["error_type"] = self.error
        return body

    def logs(self, pace: Pace) -> list[dict[str, Any]]:
        started = self.created_at + pace.queue_ticks
        done = min(self.ticks - pace.queue_ticks, pace.run_ticks)
        lines: list[tuple[float, str]] = [(started, "Starting request")]
        if self.endpoint == TRAINER:
            total = int(self.input.get("steps", 2500))
            for k in range(1, done + 1):
                step = total * k // pace.run_ticks
                lines.append((started + step * pace.step_seconds, f"step {step}/{total}, loss 0.1"))
        else:
            lines.append((started + 1, f"Generating {self.input.get('num_images', 1)} image(s)"))
        return [
            {
                "message": message,
                "level": "INFO",
                "source": "USER",
                "timestamp": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
            }
            for at, message in lines
        ]

    def output(self) -> dict[str, Any]:
        if self.endpoint == TRAINER:
            return {
                "diffusers_lora_file": _file(self.files["lora"], "application/octet-stream"),
                "config_file": _file(self.files["config"], "application/json"),
            }
        width, height = int(self.input["_width"]), int(self.input["_height"])
        count = int(self.input.get("num_images", 1))
        flagged = "[nsfw]" in str(self.input.get("prompt", ""))
        return {
            "images": [
                {**_file(self.files[f"image{i}"], "image/jpeg"), "width": width, "height": height}
                for i in range(count)
            ],
            "seed": self.seed,
            "has_nsfw_concepts": [flagged and i == 0 for i in range(count)],
            "timings": {"inference": 1.2},
            "prompt": self.input.get("prompt"),
        }

    def error_detail(self) -> list[dict[str, Any]]:
        message, error_type = self.error or ("", "")
        return [{"loc": ["body", "images_data_url"], "msg": message, "type": error_type}]


def _file(url: str, content_type: str) -> dict[str, Any]:
    return {"url": url, "content_type": content_type, "file_name": url.rsplit("/", 1)[-1]}
