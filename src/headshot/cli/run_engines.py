"""Training and generation for `headshot run`, with progress bars: the studio in this process,
or a remote engine (fal) followed by polling with backoff. Ctrl-C while a remote job runs
cancels it at the provider before exiting 130, so an abandoned run does not keep billing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from headshot.engines.protocol import (
        Engine,
        GeneratedImage,
        GenerationRequest,
        Handle,
        JobStatus,
        LocalEngine,
        TrainedModel,
        TrainingRequest,
    )

T = TypeVar("T")
SaveImage = Callable[[int, int, "GeneratedImage"], None]  # (look index, image index, image)
# (a look's candidates, how many to keep) -> the kept ones, best first
Choose = Callable[[Sequence["GeneratedImage"], int], Sequence["GeneratedImage"]]
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Pacing:
    """How long to wait between provider calls; tests pass a `sleep` that returns at once."""

    sleep: Callable[[float], None] = time.sleep
    first_poll_s: float = 2.0
    max_poll_s: float = 15.0
    backoff: float = 1.5
    max_failures: int = 10  # consecutive transient errors before giving up
    max_retry_after_s: float = 60.0


def retrying(call: Callable[[], T], *, pacing: Pacing) -> T:
    """Call again after a `RetryableEngineError`, which by contract never reached the provider
    or changed nothing there. `SubmitOutcomeUnknownError` is not retryable and passes through."""
    from headshot.engines.protocol import RetryableEngineError

    delay = pacing.first_poll_s
    for attempt in range(1, pacing.max_failures + 1):
        try:
            return call()
        except RetryableEngineError as exc:
            if attempt == pacing.max_failures:
                raise
            pacing.sleep(min(exc.retry_after_s or delay, pacing.max_retry_after_s))
            delay = min(pacing.max_poll_s, delay * pacing.backoff)
    raise AssertionError("unreachable")  # the loop returns or raises


def follow(
    engine: Engine, handle: Handle, *, pacing: Pacing, on_status: Callable[[JobStatus], None]
) -> None:
    """Poll until the job succeeds; raises `EngineError` when it failed or was cancelled."""
    from headshot.engines.protocol import EngineError

    delay = pacing.first_poll_s
    while True:
        status = retrying(lambda: engine.poll(handle), pacing=pacing)
        on_status(status)
        if status.state == "succeeded":
            return
        if status.state in ("failed", "cancelled"):
            raise EngineError(status.error or f"the provider reports the job {status.state}")
        pacing.sleep(delay)
        delay = min(pacing.max_poll_s, delay * pacing.backoff)


def describe(status: JobStatus) -> str:
    """Stage, queue position and ETA in a few words."""
    parts = [status.stage or status.state]
    if status.queue_position is not None:
        parts.append(f"position {status.queue_position} in queue")
    if status.eta_s is not None:
        minutes, seconds = divmod(round(status.eta_s), 60)
        parts.append(
            f"about {minutes}m {seconds:02d}s left" if minutes else f"about {seconds}s left"
        )
    return ", ".join(parts)


def request_id(handle: Handle) -> str:
    return str(handle.data.get("request_id") or "unknown")


@contextmanager
def cancel_on_interrupt(engine: Engine, handle: Handle, *, console: Console) -> Iterator[None]:
    """On Ctrl-C, cancel the provider job, then exit 130."""
    from headshot.engines.protocol import EngineError

    try:
        yield
    except KeyboardInterrupt:
        console.print(f"[yellow]Interrupted:[/] cancelling request {request_id(handle)}…")
        try:
            engine.cancel(handle)
        except EngineError as exc:
            console.print(f"[red]Could not cancel it:[/] {exc}. Cancel it in the fal dashboard.")
        else:
            console.print("Cancelled at the provider.")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def progress_bar(console: Console, *, spinner_only: bool = False) -> Progress:
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if not spinner_only:
        columns += [BarColumn(), TaskProgressColumn()]
    columns += [TimeElapsedColumn(), TextColumn("[dim]{task.fields[detail]}")]
    return Progress(*columns, console=console, transient=True)


def train_local(engine: LocalEngine, request: TrainingRequest, *, console: Console) -> TrainedModel:
    with progress_bar(console, spinner_only=True) as progress:
        progress.add_task(f"Training the {engine.name} model", total=None, detail="")
        return engine.train(request)


def train_remote(
    engine: Engine, request: TrainingRequest, *, console: Console, pacing: Pacing
) -> TrainedModel:
    """Submit once (never again on an ambiguous outcome), follow, fetch the weights."""
    with progress_bar(console, spinner_only=True) as progress:
        progress.add_task("Uploading photos and submitting the training", total=None, detail="")
        handle = retrying(lambda: engine.submit_training(request), pacing=pacing)
    console.print(f"Training submitted to {engine.name} (request {request_id(handle)}).")
    with cancel_on_interrupt(engine, handle, console=console), progress_bar(console) as progress:
        task = progress.add_task(f"Training on {engine.name}", total=1.0, detail="submitted")

        def show(status: JobStatus) -> None:
            done = status.progress if status.progress is not None else progress.tasks[0].completed
            progress.update(task, completed=done, detail=describe(status))

        follow(engine, handle, pacing=pacing, on_status=show)
        progress.update(task, completed=1.0, detail="downloading the model")
        return retrying(lambda: engine.fetch_training(handle), pacing=pacing)


def generate_local(
    engine: LocalEngine,
    requests: Sequence[GenerationRequest],
    *,
    console: Console,
    save: SaveImage,
    candidates: int = 1,
    max_candidates: int = 16,
    choose: Choose | None = None,
) -> None:
    """One engine call per look: `candidates` per headshot (at most `max_candidates` in all)
    from consecutive seeds, culled by `choose` to the best `num_images`, best first."""
    from dataclasses import replace

    with progress_bar(console) as progress:
        task = progress.add_task("Generating", total=len(requests), detail="")
        for look_index, request in enumerate(requests):
            progress.update(task, detail=_label(request))
            wanted = request.num_images
            count = max(wanted, min(wanted * candidates, max_candidates))
            made = engine.generate(replace(request, num_images=count))
            kept = choose(made, wanted) if choose is not None else made[:wanted]
            for index, image in enumerate(kept):
                save(look_index, index, image)
            progress.advance(task)


def generate_remote(
    engine: Engine,
    requests: Sequence[GenerationRequest],
    *,
    console: Console,
    pacing: Pacing,
    save: SaveImage,
) -> None:
    """One provider job per look, submitted after the previous one finished."""
    with progress_bar(console) as progress:
        task = progress.add_task("Generating", total=sum(r.num_images for r in requests), detail="")

        def show(text: str) -> None:
            progress.update(task, detail=text)

        for look_index, request in enumerate(requests):
            images = _remote_look(engine, request, console=console, pacing=pacing, show=show)
            for index, image in enumerate(images):
                save(look_index, index, image)
                progress.advance(task)


def _remote_look(
    engine: Engine,
    request: GenerationRequest,
    *,
    console: Console,
    pacing: Pacing,
    show: Callable[[str], None],
) -> tuple[GeneratedImage, ...]:
    label = _label(request)
    show(f"{label}: submitting")
    handle = retrying(lambda: engine.submit_generation(request), pacing=pacing)
    with cancel_on_interrupt(engine, handle, console=console):
        follow(engine, handle, pacing=pacing, on_status=lambda s: show(f"{label}: {describe(s)}"))
        return retrying(lambda: engine.fetch_generation(handle), pacing=pacing)


def _label(request: GenerationRequest) -> str:
    look = request.look
    return f"{look.background} / {look.attire} / {look.lighting}"
