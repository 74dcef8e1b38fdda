"""`serve` (the whole app) and `worker` (a background worker for scale-out)."""

from __future__ import annotations

import typer


def serve_command(
    host: str | None = typer.Option(None, help="Address to bind (default from settings)."),
    port: int | None = typer.Option(None, help="Port to bind (default from settings)."),
    http: bool = typer.Option(
        False, "--http", help="Plain HTTP for development; only allowed on a loopback address."
    ),
) -> None:
    """Serve the API, the web app and (embedded mode) the background worker over HTTPS."""
    from headshot.entrypoints import run_server
    from headshot.server.runner import PlainHttpRefused

    try:
        run_server(host=host, port=port, plain_http=http)
    except PlainHttpRefused as exc:
        raise typer.BadParameter(str(exc), param_hint="--http") from exc


def worker_command() -> None:
    """Run a background worker that takes jobs from the shared queue (Redis in scale-out)."""
    from headshot.entrypoints import run_worker

    run_worker()
