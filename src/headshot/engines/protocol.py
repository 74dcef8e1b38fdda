"""The engine boundaries. `Engine` (remote, e.g. fal.ai): submit work, poll it, cancel it, fetch
its results. `LocalEngine` (in-process, e.g. the studio): train or generate in one call.

Engines never touch records or blobs: job code reads inputs from storage, hands them over as
values, persists every `Handle` before waiting on it, and stores what `fetch_*` returns. A
`Handle` is plain JSON, so any worker can resume a job after a restart.

    EngineError
    ├── RetryableEngineError        transient (network, 429, 5xx); carries retry_after_s
    │   └── ProviderUnreachableError  no connectivity: keep the call and replay it later
    ├── SubmitOutcomeUnknownError   the submit may or may not have reached the provider:
    │                               never blindly resubmit a paid job; reconcile first
    ├── ProviderAuthError           the provider key was refused (401): fail over to another key
    ├── ProviderAccountError        account locked or out of balance (403): a human must act
    └── EngineRejectedError         the provider refused the input (422); not retryable
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from headshot.domain.models import Look

__all__ = ["Look"]  # re-exported: engines receive looks as domain values

JobKind = Literal["training", "generation"]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class EngineError(Exception):
    """An engine call failed."""


class RetryableEngineError(EngineError):
    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ProviderUnreachableError(RetryableEngineError):
    """The provider could not be reached at all (offline): the call is safe to replay."""


class SubmitOutcomeUnknownError(EngineError):
    """The request was sent but no answer came back: it may have been accepted. `request_id`
    is the provider's id for it when the failed answer named one (a reconciliation hint)."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class ProviderAuthError(EngineError):
    """The provider refused the key."""


class ProviderAccountError(EngineError):
    """The provider account is locked or out of balance."""


class EngineRejectedError(EngineError):
    """The provider refused the input; `details` carries its machine-readable reasons."""

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class TrainingImage:
    name: str  # e.g. "img01.jpg"; captions are derived from it
    jpeg: bytes


@dataclass(frozen=True)
class TrainingRequest:
    job_id: str  # our training id (idempotency and webhook routing)
    images: tuple[TrainingImage, ...]
    trigger_phrase: str
    steps: int
    options: Mapping[str, Any] = field(default_factory=dict)  # provider-specific knobs only


@dataclass(frozen=True)
class GenerationRequest:
    job_id: str  # our generation id
    look: Look
    prompt: str
    num_images: int
    seed: int | None
    weights_url: str | None  # where the provider can fetch the LoRA (fal); None for studio
    model_artifact: bytes | None  # the model as stored by us, for engines that run locally
    width: int = 1024
    height: int = 1280
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Handle:
    """Everything needed to find the job again; persisted as JSON before waiting on it."""

    engine: str
    kind: JobKind
    data: Mapping[str, Any]


@dataclass(frozen=True)
class JobStatus:
    state: JobState
    stage: str
    progress: float | None = None  # 0..1 when known
    eta_s: float | None = None
    queue_position: int | None = None
    logs: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class TrainedModel:
    """A finished training: the artifact we store (LoRA weights, or the studio's model package)."""

    artifact: bytes
    artifact_name: str  # e.g. "lora.safetensors"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    provider_url: str | None = None  # the provider's own copy, which expires


@dataclass(frozen=True)
class GeneratedImage:
    image: bytes  # JPEG or PNG
    media_type: str
    seed: int | None
    width: int
    height: int
    flagged_nsfw: bool = False
    # The resolution the source supports, when the engine enlarged its source (None: the pixel
    # size is real resolution, as with a generative model).
    effective_width: int | None = None
    effective_height: int | None = None
    # Engine measurements for ranking candidates, e.g. the studio's "edge_deviation".
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def effective_size(self) -> tuple[int, int]:
        return (self.effective_width or self.width, self.effective_height or self.height)

    @property
    def upscaled(self) -> bool:
        return self.effective_size != (self.width, self.height)


class Engine(Protocol):
    name: str

    def submit_training(self, request: TrainingRequest) -> Handle: ...

    def submit_generation(self, request: GenerationRequest) -> Handle: ...

    def poll(self, handle: Handle) -> JobStatus: ...

    def cancel(self, handle: Handle) -> None: ...

    def fetch_training(self, handle: Handle) -> TrainedModel: ...

    def fetch_generation(self, handle: Handle) -> tuple[GeneratedImage, ...]: ...


@dataclass(frozen=True)
class Reconciliation:
    """Did a submit whose answer was lost reach the provider? `found`: it did and `handle`
    tracks it, do not resubmit. `absent`: the provider lists no unclaimed request in the window.
    `unclear`: several candidates (`candidates`); a human must decide."""

    outcome: Literal["found", "absent", "unclear"]
    handle: Handle | None = None
    candidates: tuple[str, ...] = ()


class RemoteEngine(Engine, Protocol):
    """What job code needs of a provider beyond the job calls: settling lost submits, giving a
    stored model back to the provider, and deleting what the provider kept."""

    def reconcile(
        self,
        kind: JobKind,
        *,
        sent_after: datetime,
        known_request_ids: Collection[str] = (),
        request_id_hint: str | None = None,
    ) -> Reconciliation: ...

    def reupload_weights(self, weights: bytes) -> str: ...

    def delete_payloads(self, request_id: str) -> bool: ...

    def close(self) -> None: ...


class LocalEngine(Protocol):
    """An engine that computes in this process (the offline studio): job code calls it inside a
    short task and stores the result; nothing waits on a provider, so there is no handle."""

    name: str

    def train(self, request: TrainingRequest) -> TrainedModel: ...

    def generate(self, request: GenerationRequest) -> tuple[GeneratedImage, ...]: ...
