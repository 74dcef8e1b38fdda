"""`headshot retention run`: enforce the retention limits now (workers do it hourly)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def run_command() -> None:
    """Delete what has outlived its retention period, warn or erase inactive accounts, and
    delete stored files that no record names (orphans past the grace period)."""
    from headshot.entrypoints import enforce_retention

    report = enforce_retention()
    table = Table("what", "count", title="Retention")
    for name, count in vars(report).items():
        table.add_row(name.replace("_", " "), str(count))
    Console().print(table)
