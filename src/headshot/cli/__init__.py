"""The `headshot` command line. Each command group lives in its own module; heavy imports stay
inside the command functions so `headshot --help` is instant."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="headshot",
    help="Professional headshots from selfies: validate, train, generate, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


def _register() -> None:
    from headshot.cli import validate

    app.command("validate")(validate.validate_command)


def main() -> None:
    _register()
    app()
