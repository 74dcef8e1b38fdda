"""Argument checks for `headshot run`. Each prints a plain sentence and exits 2 on bad usage,
before any photo is read or anything is paid for."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from headshot.domain.models import Look
    from headshot.domain.styles import Style
    from headshot.settings import Settings

EXIT_USAGE = 2
DEFAULT_LOOKS = (
    ("studio-grey", "as-is", "soft-studio"),
    ("office", "business-suit", "rembrandt"),
    ("outdoor-green", "smart-casual", "golden-hour"),
)


class EngineName(StrEnum):
    fal = "fal"
    studio = "studio"


_TRIGGER = re.compile(r"^[A-Za-z0-9 _-]{2,40}$")  # the rule the API applies (services.trainings)


def fail(console: Console, message: str, code: int = EXIT_USAGE) -> NoReturn:
    from rich.markup import escape

    console.print(f"[red]{escape(message)}[/red]")
    raise typer.Exit(code)


def load_settings(console: Console) -> Settings:
    from pydantic import ValidationError

    from headshot.settings import load_settings as load

    try:
        return load()
    except ValidationError as exc:
        # loc and msg only: the offending input could be a secret.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        fail(console, f"Invalid configuration: {problems}")


def photo_files(photos_dir: Path, *, console: Console) -> list[Path]:
    from headshot.cli.validate import collect

    if not photos_dir.is_dir():
        what = "is not a folder" if photos_dir.exists() else "was not found"
        fail(console, f"{photos_dir} {what}. Give a folder of selfies.")
    files = collect([photos_dir])
    if not files:
        fail(console, f"No photos in {photos_dir}. Add JPEG, PNG, WebP or HEIC selfies.")
    return files


def check_out(out: Path, *, photos_dir: Path, overwrite: bool, console: Console) -> None:
    if out.exists() and not out.is_dir():
        fail(console, f"--out {out} is a file, not a folder.")
    if out.is_dir() and out.resolve() == photos_dir.resolve():
        fail(console, "--out must not be the photos folder: headshots would mix with selfies.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        fail(console, f"--out {out} is not empty. Choose a new folder, or pass --overwrite.")


def engine_name(chosen: EngineName | None, *, settings: Settings, console: Console) -> str:
    from headshot.engines.fal.credentials import split_key

    name = str(chosen.value) if chosen is not None else settings.effective_engine
    if name != "fal":
        return name
    if settings.fal_key is None:
        fail(console, "The fal engine needs a key: set HEADSHOT_FAL_KEY, or use --engine studio.")
    try:
        split_key(settings.fal_key.get_secret_value())
    except ValueError:
        fail(console, "HEADSHOT_FAL_KEY must have the form key_id:key_secret.")
    return name


def parse_looks(values: list[str] | None, *, engine: str, console: Console) -> tuple[Look, ...]:
    """Looks in the order given, without repeats. The studio cannot change clothes, so its
    default looks keep them (`as-is`) rather than promise attire in the file names."""
    from headshot.domain.models import Look

    if not values:
        studio = engine == "studio"
        return tuple(
            Look(bg, "as-is" if studio else attire, light) for bg, attire, light in DEFAULT_LOOKS
        )
    looks: list[Look] = []
    for text in (part.strip() for value in values for part in value.split(",")):
        if not text:
            continue
        look = _parse_look(text, console=console)
        if look not in looks:
            looks.append(look)
    if not looks:
        fail(console, "--looks needs at least one BG:ATTIRE:LIGHTING.")
    return tuple(looks)


def _parse_look(text: str, *, console: Console) -> Look:
    from headshot.domain.models import Look
    from headshot.domain.styles import CATALOGUE, find_style

    parts = text.split(":")
    if len(parts) != 3:
        fail(
            console,
            f"Look {text!r} must be BACKGROUND:ATTIRE:LIGHTING, e.g. office:as-is:rembrandt.",
        )
    for axis, style_id in zip(CATALOGUE, parts, strict=True):
        if find_style(axis, style_id) is None:
            known = ", ".join(style.id for style in CATALOGUE[axis])
            fail(console, f"Unknown {axis} {style_id!r} in look {text!r}. Choose from: {known}.")
    return Look(*parts)


def styles_of(look: Look) -> tuple[Style, Style, Style]:
    """The catalogue entries of a look that `parse_looks` accepted."""
    from headshot.domain.styles import find_style

    background = find_style("background", look.background)
    attire = find_style("attire", look.attire)
    lighting = find_style("lighting", look.lighting)
    if background is None or attire is None or lighting is None:
        raise ValueError(f"look not in the catalogue: {look}")
    return background, attire, lighting


def trigger(phrase: str, *, console: Console) -> str:
    value = phrase.strip()
    if not _TRIGGER.match(value):
        fail(console, "--trigger-phrase must be 2 to 40 letters, digits, spaces, - or _.")
    return value
