"""`headshot invites create|list|revoke`: invitations to register (operator tools)."""

from __future__ import annotations

import typer
from rich.console import Console


def build_invites_cli() -> typer.Typer:
    group = typer.Typer(help="Invitations to register (operator tools).", no_args_is_help=True)
    group.command("create")(create_command)
    group.command("list")(list_command)
    group.command("revoke")(revoke_command)
    return group


def create_command(
    domain: str | None = typer.Option(
        None, "--domain", help="Only addresses at this email domain may use it."
    ),
    days: int | None = typer.Option(
        None, "--days", min=1, max=365, help="Days until it expires (default from settings)."
    ),
    note: str = typer.Option("", "--note", help="Who it is for (shown to operators only)."),
) -> None:
    """Make a single-use invitation and print its token (shown once)."""
    from headshot.domain.errors import InvalidInputError
    from headshot.entrypoints import invitations

    with invitations() as service:
        try:
            issued = service.create(by=None, email_domain=domain, expires_in_days=days, note=note)
        except InvalidInputError as exc:
            raise typer.BadParameter(exc.message) from exc
    typer.echo(issued.token)
    view = issued.view
    bound = f" for @{view.email_domain}" if view.email_domain else ""
    Console(stderr=True).print(
        f"Invitation {view.id}{bound}, single use, expires {view.expires_at:%Y-%m-%d}."
    )


def list_command() -> None:
    """Every invitation with its state (open, used, expired, revoked)."""
    from rich.table import Table

    from headshot.entrypoints import invitations

    table = Table("id", "state", "domain", "expires", "note", title="Invitations")
    with invitations() as service:
        for view in service.list():
            table.add_row(
                view.id,
                view.state,
                view.email_domain or "",
                f"{view.expires_at:%Y-%m-%d}",
                view.note,
            )
    Console().print(table)


def revoke_command(invitation_id: str) -> None:
    """Revoke an unused invitation."""
    from headshot.domain.errors import NotFoundError
    from headshot.entrypoints import invitations

    with invitations() as service:
        try:
            view = service.revoke(invitation_id, by=None)
        except NotFoundError as exc:
            Console(stderr=True).print("[red]No such invitation.[/red]")
            raise typer.Exit(1) from exc
    Console(stderr=True).print(f"Invitation {view.id} is {view.state}.")
