"""`headshot users erase EMAIL`: the operator's erasure of one account, with its receipt."""

from __future__ import annotations

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
