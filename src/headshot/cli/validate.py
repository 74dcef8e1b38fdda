"""`headshot validate PATH... [--json] [--min-photos N]`: validate photos offline, with no server
or database, against the same thresholds as the server (`HEADSHOT_VALIDATION__*`).

Exit status: 0 when the set is ready for training, 1 when it is not, 2 on usage errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from headshot.imaging.pipeline import PhotoValidator

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})


def collect(paths: list[Path]) -> list[Path]:
    """Files named directly, plus the images inside named folders (not recursive), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        elif path.is_file():
            found.append(path)
    return found


def validate_command(
    paths: list[Path] = typer.Argument(..., help="Photos and/or folders of photos."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    min_photos: int | None = typer.Option(
        None,
        "--min-photos",
        min=1,
        help="Accepted photos needed for a ready set (default: HEADSHOT_VALIDATION__MIN_PHOTOS).",
    ),
) -> None:
    """Check selfies for training: one face, sharp, well lit, well framed; then the whole set."""
    from rich.console import Console

    console = Console(stderr=True)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        console.print(f"[red]Not found:[/red] {', '.join(missing)}")
        raise typer.Exit(2)
    files = collect(paths)
    if not files:
        console.print("[red]No photos found.[/red] Give JPEG, PNG, WebP or HEIC files or folders.")
        raise typer.Exit(2)
    photos, set_report = _run(
        files, validator=_validator(min_photos), console=console, quiet=json_output
    )
    if json_output:
        typer.echo(json.dumps({"photos": photos, "set": set_report}, indent=2))
    else:
        _print_tables(photos, set_report)
    raise typer.Exit(0 if set_report["ready"] else 1)


def _validator(min_photos: int | None) -> PhotoValidator:
    """The server's validator: the same settings (thresholds and upload limits)."""
    from headshot.settings import load_settings
    from headshot.wiring import make_validator

    settings = load_settings()
    if min_photos is not None:
        thresholds = settings.validation.model_copy(update={"min_photos": min_photos})
        settings = settings.model_copy(update={"validation": thresholds})
    return make_validator(settings)


def _run(
    files: list[Path], *, validator: PhotoValidator, console: Any, quiet: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from rich.progress import Progress

    from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
    from headshot.domain.validation import SetMember

    photos: list[dict[str, Any]] = []
    members: list[SetMember] = []
    with Progress(console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task("Checking photos", total=len(files))
        for index, path in enumerate(files):
            try:
                outcome = validator.analyze(
                    path.read_bytes(), filename=path.name, photo_id=str(index)
                )
            except (InvalidInputError, PayloadTooLargeError) as exc:
                photos.append(_unreadable(path.name, exc.code, exc.message))
            else:
                photos.append({"id": str(index), **outcome.report.to_dict()})
                if outcome.member is not None:
                    members.append(outcome.member)
            progress.advance(task)
    return photos, with_filenames(validator.assess(members).to_dict(), photos)


def with_filenames(set_report: dict[str, Any], photos: list[dict[str, Any]]) -> dict[str, Any]:
    """The set report with each finding's photos also named by file (`photos`), since the ids
    here are only positions on the command line."""
    names = {p["id"]: p["filename"] for p in photos if "id" in p}
    findings = [
        {**f, "photos": [names[i] for i in f.get("photo_ids", []) if i in names]}
        for f in set_report["findings"]
    ]
    return {**set_report, "findings": findings}


def _unreadable(filename: str, code: str, message: str) -> dict[str, Any]:
    tip = "Upload a JPEG, PNG, WebP or HEIC photo straight from your camera."
    finding = {"code": code, "severity": "error", "message": message, "tip": tip}
    return {
        "filename": filename,
        "accepted": False,
        "face_count": 0,
        "findings": [finding],
        "metrics": {},
        "width": 0,
        "height": 0,
    }


def _print_tables(photos: list[dict[str, Any]], set_report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Photos")
    for column in ("photo", "result", "faces", "problems and tips"):
        table.add_column(column)
    for photo in photos:
        notes = "\n".join(
            f"[{'red' if f['severity'] == 'error' else 'yellow'}]{f['code']}[/]: "
            f"{f['message']} {f['tip']}"
            for f in photo["findings"]
        )
        verdict = "[green]ok[/green]" if photo["accepted"] else "[red]rejected[/red]"
        table.add_row(photo["filename"], verdict, str(photo["face_count"]), notes)
    console = Console()
    console.print(table)
    summary = f"{set_report['accepted_count']} of {set_report['required_count']} photos needed"
    state = "[green]ready for training[/green]" if set_report["ready"] else "[red]not ready[/red]"
    console.print(f"Set: {summary}; {state}.")
    for finding in set_report["findings"]:
        colour = "red" if finding["severity"] == "error" else "yellow"
        console.print(f"  [{colour}]{finding['code']}[/]: {describe(finding)}")


def describe(finding: dict[str, Any]) -> str:
    """A set finding as one line: message, tip, and the files it concerns."""
    named = finding.get("photos") or []
    files = f" (photos: {', '.join(named)})" if named else ""
    return f"{finding['message']} {finding['tip']}{files}"
