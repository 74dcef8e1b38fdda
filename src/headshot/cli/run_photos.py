"""The first step of `headshot run`: check the folder's photos exactly as `headshot validate`
does, and keep the training images of the photos the set checks accepted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from headshot.domain.validation import SetMember, SetReport
    from headshot.engines.protocol import TrainingImage
    from headshot.imaging.pipeline import PhotoValidator


@dataclass(frozen=True)
class CheckedSet:
    """The validation verdict and, when ready, what training receives."""

    photos: list[dict[str, Any]]  # one PhotoReport dict per file, as `headshot validate --json`
    report: SetReport
    images: tuple[TrainingImage, ...]  # imgNN.jpg, in file order
    used: tuple[str, ...]  # the file names behind `images`, same order
    references: tuple[tuple[float, ...], ...] = ()  # identity embeddings of `images` (likeness)

    @property
    def ready(self) -> bool:
        return self.report.ready and bool(self.images)

    @property
    def skipped(self) -> tuple[str, ...]:
        used = set(self.used)
        return tuple(p["filename"] for p in self.photos if p["filename"] not in used)


def check_photos(files: list[Path], *, validator: PhotoValidator, console: Console) -> CheckedSet:
    """Analyse every file with a progress bar, then judge the set."""
    from rich.progress import Progress

    from headshot.cli.validate import _unreadable
    from headshot.domain.errors import InvalidInputError, PayloadTooLargeError

    photos: list[dict[str, Any]] = []
    members: list[SetMember] = []
    jpegs: dict[str, tuple[str, bytes]] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Checking photos", total=len(files))
        for index, path in enumerate(files):
            photo_id = str(index)
            try:
                outcome = validator.analyze(
                    path.read_bytes(), filename=path.name, photo_id=photo_id
                )
            except (InvalidInputError, PayloadTooLargeError) as exc:
                photos.append(_unreadable(path.name, exc.code, exc.message))
            else:
                photos.append({"id": photo_id, **outcome.report.to_dict()})
                if outcome.member is not None and outcome.training_jpeg is not None:
                    members.append(outcome.member)
                    jpegs[photo_id] = (path.name, outcome.training_jpeg)
            progress.advance(task)
    report = validator.assess(members)
    chosen = _best_sources(members, report, validator)
    references = tuple(tuple(m.embedding) for m in members if m.photo_id in chosen and m.embedding)
    return _checked(photos, report, chosen, jpegs, references)


def _best_sources(
    members: list[SetMember], report: SetReport, validator: PhotoValidator
) -> set[str]:
    """As in the web app: duplicates and photos of someone else stay out of training, and of
    the rest the most suitable headshot sources are chosen."""
    from headshot.imaging.ranking import choose_sources, member_traits

    limits = validator.thresholds
    eligible = [m for m in members if m.photo_id not in report.rejected_ids]
    chosen = choose_sources(eligible, member_traits, limits, minimum=limits.min_photos)
    return {m.photo_id for m in chosen}


def _checked(
    photos: list[dict[str, Any]],
    report: SetReport,
    chosen: set[str],
    jpegs: dict[str, tuple[str, bytes]],
    references: tuple[tuple[float, ...], ...],
) -> CheckedSet:
    from headshot.engines.protocol import TrainingImage

    kept = [jpegs[pid] for pid in sorted(jpegs, key=int) if pid in chosen]
    images = tuple(
        TrainingImage(name=f"img{i:02d}.jpg", jpeg=jpeg)
        for i, (_, jpeg) in enumerate(kept, start=1)
    )
    return CheckedSet(photos, report, images, tuple(name for name, _ in kept), references)


def print_verdict(checked: CheckedSet, *, console: Console) -> None:
    """One line when the set is ready (plus its warnings); the full tables with tips when not."""
    from headshot.cli.validate import _print_tables, describe, with_filenames

    named = with_filenames(checked.report.to_dict(), checked.photos)
    if not checked.ready:
        _print_tables(checked.photos, named)
        return
    report = checked.report
    rejected = sum(1 for photo in checked.photos if not photo["accepted"])
    skipped = f"; {rejected} photo(s) skipped" if rejected else ""
    console.print(
        f"Set: {len(checked.used)} photos ready for training "
        f"({report.required_count} needed){skipped}."
    )
    for finding in named["findings"]:
        console.print(f"  [yellow]{finding['code']}[/]: {describe(finding)}")
