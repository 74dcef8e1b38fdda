"""Operations: `migrate`, `config`, `keys rotate-master`, `users`."""

from __future__ import annotations

import json

import typer
from rich.console import Console


def build_keys_cli() -> typer.Typer:
    keys = typer.Typer(help="Encryption and provider keys.", no_args_is_help=True)
    keys.command("rotate-master")(rotate_master_command)
    from headshot.cli import keys as provider_keys

    provider_keys.register(keys)
    return keys


def build_users_cli() -> typer.Typer:
    users = typer.Typer(help="Accounts (operator tools).", no_args_is_help=True)
    users.command("grant-operator")(grant_operator_command)
    from headshot.cli import data_requests

    users.command("erase")(data_requests.erase_command)
    users.command("export")(data_requests.export_command)
    from headshot.cli import quotas

    users.command("quota")(quotas.quota_command)
    return users


def build_retention_cli() -> typer.Typer:
    from headshot.cli import retention

    group = typer.Typer(help="Retention of personal data (operator tools).", no_args_is_help=True)
    group.command("run")(retention.run_command)
    return group


def migrate_command() -> None:
    """Create or upgrade the database schema."""
    from headshot.settings import load_settings
    from headshot.wiring import migrate_database

    migrate_database(load_settings())
    Console(stderr=True).print("[green]Database is up to date.[/green]")


def config_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print the effective settings, secrets masked."""
    from headshot.settings import load_settings, masked

    data = masked(load_settings())
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
        return
    from rich.table import Table

    table = Table("setting", "value", title="Effective settings")
    for name, value in sorted(_flatten(data).items()):
        table.add_row(name, json.dumps(value, default=str))
    Console().print(table)


def _flatten(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def rotate_master_command() -> None:
    """Re-wrap every user's data key under a new master key (blobs are not re-encrypted)."""
    from headshot.entrypoints import rotate_master_key

    count = rotate_master_key()
    Console(stderr=True).print(
        f"[green]Re-wrapped {count} data keys under the new master key.[/green]"
    )


def grant_operator_command(email: str) -> None:
    """Give an existing account the operator role."""
    from headshot.entrypoints import set_operator

    if not set_operator(email, operator=True):
        Console(stderr=True).print("[red]No account with that email.[/red]")
        raise typer.Exit(1)
    Console(stderr=True).print("[green]Done.[/green]")
