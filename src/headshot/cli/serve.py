"""`serve` (the whole app) and `worker` (a background worker for scale-out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

MIGRATE_OPTION = typer.Option(
    False,
    "--migrate",
    help="Upgrade a shared (PostgreSQL) schema before starting; SQLite is always upgraded.",
)


def serve_command(
    host: str | None = typer.Option(None, help="Address to bind (default from settings)."),
    port: int | None = typer.Option(None, help="Port to bind (default from settings)."),
    http: bool = typer.Option(
        False, "--http", help="Plain HTTP for development; only allowed on a loopback address."
    ),
    migrate: bool = MIGRATE_OPTION,
) -> None:
    """Serve the API, the web app and (embedded mode) the background worker over HTTPS."""
    from headshot.entrypoints import run_server
    from headshot.server.runner import PlainHttpRefused

    try:
        with _refuse_old_schema():
            run_server(host=host, port=port, plain_http=http, migrate=migrate)
    except PlainHttpRefused as exc:
        raise typer.BadParameter(str(exc), param_hint="--http") from exc


def worker_command(migrate: bool = MIGRATE_OPTION) -> None:
    """Run a background worker that takes jobs from the shared queue (Redis in scale-out)."""
    from headshot.entrypoints import run_worker

    with _refuse_old_schema():
        run_worker(migrate=migrate)


@contextmanager
def _refuse_old_schema() -> Iterator[None]:
    from headshot.storage.migrate import SchemaOutOfDateError

    try:
        yield
    except SchemaOutOfDateError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
