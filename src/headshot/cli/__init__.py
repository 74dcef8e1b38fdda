"""The `headshot` command line. Each command group lives in its own module; heavy imports stay
inside the command functions so `headshot --help` is instant."""

from __future__ import annotations

import typer


def build_cli() -> typer.Typer:
    from headshot.cli import invites, ops, run, serve, stats, validate

    app = typer.Typer(
        name="headshot",
        help="Professional headshots from selfies: validate, train, generate, serve.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,  # locals may hold secrets
    )
    app.command("serve")(serve.serve_command)
    app.command("worker")(serve.worker_command)
    app.command("validate")(validate.validate_command)
    app.command("run")(run.run_command)
    app.command("migrate")(ops.migrate_command)
    app.command("config")(ops.config_command)
    app.command("stats")(stats.stats_command)
    app.add_typer(ops.build_keys_cli(), name="keys")
    app.add_typer(ops.build_users_cli(), name="users")
    app.add_typer(ops.build_retention_cli(), name="retention")
    app.add_typer(invites.build_invites_cli(), name="invites")
    return app


def main() -> None:
    build_cli()()
