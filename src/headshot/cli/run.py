"""`headshot run PHOTOS_DIR --out DIR`: the whole pipeline from a folder of selfies, offline
(studio) or on fal.ai, with a progress bar for every long step.

Exit status: 0 when the headshots were written, 1 when the photos are not ready or an engine
failed, 2 on usage errors, 130 when interrupted (a running provider job is cancelled first).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from headshot.cli import run_args as args
from headshot.cli.run_engines import EXIT_INTERRUPTED, Pacing

if TYPE_CHECKING:
    from rich.console import Console

    from headshot.cli.run_output import OutputFolder
    from headshot.domain.models import Look
    from headshot.engines.protocol import GeneratedImage, GenerationRequest, TrainingRequest
    from headshot.imaging.models import FaceModels
    from headshot.imaging.pipeline import PhotoValidator
    from headshot.settings import Settings

EXIT_FAILED = 1  # the photos are not ready, or an engine failed


@dataclass(frozen=True)
class RunDeps:
    """Collaborators a caller may inject via `CliRunner.invoke(..., obj=RunDeps(...))`: loaded
    face models to share, and the pacing (sleep) of provider polls."""

    face_models: FaceModels | None = None
    pacing: Pacing = field(default_factory=Pacing)


@dataclass(frozen=True)
class RunOptions:
    photos_dir: Path
    out: Path
    engine: str
    looks: tuple[Look, ...]
    images_per_look: int
    seed: int
    steps: int | None
    trigger_phrase: str
    min_photos: int | None
    run_id: str = field(default_factory=lambda: f"cli-{secrets.token_hex(6)}")


def run_command(
    ctx: typer.Context,
    photos_dir: Path = typer.Argument(..., help="Folder of selfies (JPEG, PNG, WebP, HEIC)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the headshots (new or empty)."),
    engine: args.EngineName | None = typer.Option(
        None,
        "--engine",
        case_sensitive=False,
        help="fal (AI; needs HEADSHOT_FAL_KEY) or studio (offline). Default: fal if a key is set.",
    ),
    looks: list[str] | None = typer.Option(
        None,
        "--looks",
        "--look",
        metavar="BG:ATTIRE:LIGHTING",
        help="A look from `GET /styles`; repeat it or separate looks with commas.",
    ),
    images_per_look: int = typer.Option(2, min=1, max=16, help="Headshots per look."),
    seed: int | None = typer.Option(None, min=0, help="Base seed, for repeatable results."),
    steps: int | None = typer.Option(None, min=1, max=10_000, help="Training steps (fal)."),
    trigger_phrase: str = typer.Option("hsperson", help="The word that names you (fal)."),
    min_photos: int | None = typer.Option(
        None, min=1, help="Accepted photos needed (default: HEADSHOT_VALIDATION__MIN_PHOTOS, 10)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Allow writing into a folder that is not empty."
    ),
) -> None:
    """Validate a folder of selfies, train a model on them and generate headshots."""
    from rich.console import Console

    console = Console(stderr=True)
    deps = ctx.obj if isinstance(ctx.obj, RunDeps) else RunDeps()
    settings = args.load_settings(console)
    files = args.photo_files(photos_dir, console=console)
    args.check_out(out, photos_dir=photos_dir, overwrite=overwrite, console=console)
    chosen = args.engine_name(engine, settings=settings, console=console)
    options = RunOptions(
        photos_dir=photos_dir,
        out=out,
        engine=chosen,
        looks=args.parse_looks(looks, engine=chosen, console=console),
        images_per_look=images_per_look,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        steps=steps,
        trigger_phrase=args.trigger(trigger_phrase, console=console),
        min_photos=min_photos,
    )
    _guarded(options, files, settings=settings, deps=deps, console=console)


def _guarded(
    options: RunOptions, files: list[Path], *, settings: Settings, deps: RunDeps, console: Console
) -> None:
    """Run the pipeline; every expected failure becomes a sentence and an exit status."""
    from rich.markup import escape

    from headshot.engines.protocol import EngineError, SubmitOutcomeUnknownError

    try:
        _pipeline(options, files, settings=settings, deps=deps, console=console)
    except SubmitOutcomeUnknownError as exc:
        hint = exc.request_id
        console.print(
            f"[red]fal may or may not have accepted the request[/] ({escape(str(exc))}; "
            f"request id: {hint or 'not reported'}). It was not sent again, so you are not "
            "billed twice: check your requests in the fal dashboard before running again."
        )
        raise typer.Exit(EXIT_FAILED) from None
    except EngineError as exc:
        args.fail(console, f"The {options.engine} engine failed: {exc}", EXIT_FAILED)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted.[/]")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except OSError as exc:
        # The file's name only: the exception's own text carries its absolute path.
        name = Path(str(exc.filename)).name if exc.filename else ""
        args.fail(console, f"File error: {exc.strerror or exc} {name}".strip(), EXIT_FAILED)


def _pipeline(
    options: RunOptions, files: list[Path], *, settings: Settings, deps: RunDeps, console: Console
) -> None:
    from headshot.cli.run_output import OutputFolder
    from headshot.cli.run_photos import check_photos, print_verdict
    from headshot.engines.protocol import TrainingRequest
    from headshot.wiring import make_validator

    if options.min_photos is not None:
        limits = settings.validation.model_copy(update={"min_photos": options.min_photos})
        settings = settings.model_copy(update={"validation": limits})
    validator = make_validator(settings, deps.face_models)
    checked = check_photos(files, validator=validator, console=console)
    print_verdict(checked, console=console)
    if not checked.ready:
        args.fail(console, "Not training: fix the problems above and run again.", EXIT_FAILED)
    request = TrainingRequest(
        job_id=options.run_id,
        images=checked.images,
        trigger_phrase=options.trigger_phrase,
        steps=options.steps or _default_steps(),
    )
    folder = OutputFolder(options.out, requests=_generation_requests(options))
    if options.engine == "studio":
        extra = _run_studio(
            options,
            request,
            folder=folder,
            validator=validator,  # one set of face models for the checks and the studio
            references=checked.references,
            candidates=settings.generation.overgenerate_studio,
            console=console,
        )
    else:
        extra = _run_fal(request, folder=folder, settings=settings, deps=deps, console=console)
    folder.write_manifest(
        {
            "engine": options.engine,
            "photos_dir": str(options.photos_dir),  # as the user typed it
            "photos_used": list(checked.used),
            "photos_skipped": list(checked.skipped),
            "trigger_phrase": request.trigger_phrase,
            "steps": request.steps if options.engine == "fal" else None,  # the studio has none
            "seed": options.seed,
            "images_per_look": options.images_per_look,
            **extra,
        }
    )
    _summary(folder, out=options.out)


def _run_studio(
    options: RunOptions,
    request: TrainingRequest,
    *,
    folder: OutputFolder,
    validator: PhotoValidator,
    references: Sequence[Sequence[float]],
    candidates: int,
    console: Console,
) -> dict[str, object]:
    """Train, then per look make `candidates` per headshot and keep the best, as the server
    does (`services.candidates`)."""
    from dataclasses import replace

    from headshot.cli.run_engines import generate_local, train_local
    from headshot.engines.studio.engine import MAX_IMAGES
    from headshot.services.analysis import ImagingLikeness
    from headshot.services.candidates import best_candidates
    from headshot.wiring import make_studio_engine

    likeness = ImagingLikeness(validator)

    def choose(made: Sequence[GeneratedImage], keep: int) -> list[GeneratedImage]:
        return [k.image for k in best_candidates(likeness, made, references, keep=keep)]

    studio = make_studio_engine(validator.models)
    model = train_local(studio, request, console=console)
    folder.save_model(model)
    notes = sorted({note for look in options.looks for note in studio.limitations(look)})
    for note in notes:
        console.print(f"[yellow]Note:[/] {note}")
    requests = [replace(r, model_artifact=model.artifact) for r in folder.requests]
    generate_local(
        studio,
        requests,
        console=console,
        save=folder.save_image,
        candidates=candidates,
        max_candidates=MAX_IMAGES,
        choose=choose,
    )
    return {"notes": notes}


def _run_fal(
    request: TrainingRequest,
    *,
    folder: OutputFolder,
    settings: Settings,
    deps: RunDeps,
    console: Console,
) -> dict[str, object]:
    from dataclasses import replace

    from headshot.cli.run_engines import generate_remote, retrying, train_remote
    from headshot.wiring import make_fal_engine

    assert settings.fal_key is not None  # checked in args.engine_name
    engine = make_fal_engine(settings)  # the configured keys alone: no database
    pacing = deps.pacing
    try:
        model = train_remote(engine, request, console=console, pacing=pacing)
        folder.save_model(model)
        # fal's own copy of the weights serves the generations while it lasts.
        url = model.provider_url or retrying(
            lambda: engine.reupload_weights(model.artifact), pacing=pacing
        )
        requests = [replace(r, weights_url=url) for r in folder.requests]
        generate_remote(engine, requests, console=console, pacing=pacing, save=folder.save_image)
    finally:
        engine.close()
    return {"provider": {"training_request_id": model.metadata.get("request_id")}}


def _generation_requests(options: RunOptions) -> list[GenerationRequest]:
    from headshot.domain.styles import compose_prompt
    from headshot.engines.protocol import GenerationRequest

    def prompt(look: Look) -> str:
        background, attire, lighting = args.styles_of(look)
        return compose_prompt(
            trigger_phrase=options.trigger_phrase,
            background=background,
            attire=attire,
            lighting=lighting,
        )

    return [
        GenerationRequest(
            job_id=f"{options.run_id}-{index}",
            look=look,
            prompt=prompt(look),
            num_images=options.images_per_look,
            seed=options.seed + index * 1000,  # as the worker seeds looks
            weights_url=None,
            model_artifact=None,
        )
        for index, look in enumerate(options.looks)
    ]


def _default_steps() -> int:
    from headshot.engines.fal import DEFAULT_TRAINING_STEPS

    return DEFAULT_TRAINING_STEPS


def _summary(folder: OutputFolder, *, out: Path) -> None:
    from rich.console import Console
    from rich.markup import escape

    images = [name for name in folder.files if name.startswith("headshot-")]
    console = Console()
    noun = "headshot" if len(images) == 1 else "headshots"
    console.print(f"[green]Done:[/green] {len(images)} {noun} in {escape(str(out))}")
    for name in folder.files:
        console.print(f"  {escape(name)}")
    console.print("  run.json")
