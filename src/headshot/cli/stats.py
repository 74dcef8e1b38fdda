"""`headshot stats`: the seed's success metrics (R7.1) against their thresholds."""

from __future__ import annotations

import json

import typer
from rich.console import Console


def stats_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Training failure rate, photo processing latency and retention, read from the records."""
    from rich.table import Table

    from headshot.entrypoints import operator_database
    from headshot.services.product_metrics import WINDOW_DAYS, ProductStats, describe
    from headshot.wiring import system_clock

    with operator_database() as (settings, db):
        snapshot = ProductStats(db=db, limits=settings.quotas, clock=system_clock).snapshot()
    if as_json:
        from headshot.api.schemas_operations import ProductMetricsOut

        typer.echo(json.dumps(ProductMetricsOut.of(snapshot).model_dump(), indent=2))
        return
    table = Table(
        "metric", "value", "target", "verdict", title=f"Success metrics (last {WINDOW_DAYS} days)"
    )
    for row in describe(snapshot.targets()):
        colour = {"met": "green", "missed": "red"}.get(row[3], "yellow")
        table.add_row(*row[:3], f"[{colour}]{row[3]}[/]")
    console = Console()
    console.print(table)
    for kind, counts in snapshot.outcomes.items():
        shown = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
        console.print(f"{kind}s: {shown}")
    for figure in snapshot.retention:
        console.print(f"retention {figure.days} d: {figure.returned} of {figure.cohort} came back")
    console.print(
        f"provider spend today: ${snapshot.spend_today_usd:.2f} (cap ${snapshot.spend_cap_usd:.2f})"
    )
