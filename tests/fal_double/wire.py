"""Plain values passed between the double's HTTP plumbing and its route logic."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.fal_double.faults import Fault


@dataclass(frozen=True)
class Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    route: str = ""
    fault: Fault | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, payload: Any, **headers: str) -> Reply:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **headers},
        )


@dataclass(frozen=True)
class ReceivedRequest:
    """One call the double received, before any fault was applied."""

    route: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class UploadRecord:
    flow: str  # "v3" or "initiate"
    file_name: str
    content_type: str
    size: int
    lifecycle: Any  # the parsed X-Fal-Object-Lifecycle-Preference header, or None
    url: str


@dataclass(frozen=True)
class WebhookDelivery:
    url: str
    headers: dict[str, str]
    body: bytes
