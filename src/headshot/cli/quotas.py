"""`headshot users quota EMAIL`: show or set a person's limits (operator tools)."""

from __future__ import annotations

import typer
from rich.console import Console


def quota_command(
    email: str,
    trainings: int | None = typer.Option(
        None, "--trainings", min=0, help="Trainings per period for this person (0: no limit)."
    ),
    images: int | None = typer.Option(
        None, "--images", min=0, help="Headshots per period for this person (0: no limit)."
    ),
    default: bool = typer.Option(False, "--default", help="Go back to the defaults from settings."),
) -> None:
    """Show a person's quota; with --trainings/--images set their own limits."""
    from headshot.domain.errors import NotFoundError
    from headshot.entrypoints import quotas

    with quotas() as service:
        try:
            if default or trainings is not None or images is not None:
                current = service.view(email)
                keep_trainings = None if default else current.trainings_limit
                keep_images = None if default else current.images_limit
                view = service.set_override(
                    email,
                    trainings_per_period=trainings if trainings is not None else keep_trainings,
                    images_per_period=images if images is not None else keep_images,
                    by=None,
                )
            else:
                view = service.view(email)
        except NotFoundError as exc:
            Console(stderr=True).print("[red]No account with that email.[/red]")
            raise typer.Exit(1) from exc

    def limit(value: int) -> str:
        return "no limit" if value == 0 else str(value)

    source = "own limits" if view.overridden else "defaults"
    Console().print(
        f"{view.email} ({source}), last {view.period_days} days: "
        f"trainings {view.trainings_used} of {limit(view.trainings_limit)}, "
        f"headshots {view.images_used} of {limit(view.images_limit)}."
    )
