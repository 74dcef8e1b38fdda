"""`headshot users erase EMAIL` and `headshot users export EMAIL --out FILE`: the operator's
answers to a person's erasure and access requests."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def erase_command(
    email: str = typer.Argument(..., help="The account's email."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase an account and everything in it; prints the deletion receipt."""
    from headshot.entrypoints import erase_user

    console = Console(stderr=True)
    if not yes:
        typer.confirm(
            f"Erase the account {email} and all its photos, models and headshots? "
            "This cannot be undone.",
            abort=True,
        )
    receipt = erase_user(email)
    if receipt is None:
        console.print("[red]No account with that email.[/red]")
        raise typer.Exit(1)
    table = Table("deleted", "count", title=f"Deletion receipt {receipt.id}")
    for name, count in receipt.deleted.items():
        table.add_row(name.replace("_", " "), str(count))
    Console().print(table)
    if receipt.status == "complete":
        console.print("[green]Erased. Nothing was owed to a provider.[/green]")
    else:
        console.print(
            f"[yellow]Erased here; {receipt.provider_pending} provider deletion(s) are queued "
            "and retried until confirmed.[/yellow] Status: "
            f"/api/v1/deletion-receipts/{receipt.id}"
        )


def export_command(
    email: str = typer.Argument(..., help="The account's email."),
    out: Path = typer.Option(..., "--out", help="The zip file to write (readable by you only)."),
) -> None:
    """Write everything held about an account to a zip (records, photos, models, headshots)."""
    from headshot.entrypoints import export_user

    console = Console(stderr=True)
    if out.exists() or not out.parent.is_dir():
        console.print("[red]Choose a new file in an existing folder for --out.[/red]")
        raise typer.Exit(2)
    size = export_user(email, out)
    if size is None:
        console.print("[red]No account with that email.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]Wrote the export ({size / 1e6:.1f} MB).[/green]")
