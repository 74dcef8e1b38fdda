"""`headshot keys add|list|retire|revoke|rotate-fal|finish-rotation`: the operator's fal keys.

Secrets come from a hidden prompt or an environment variable, never from the command line (where
`ps` and shell history would keep them), and are never printed: listings show hints only.
Exit status: 0 on success, 1 when the action was refused or failed, 2 on usage errors.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from headshot.services.fal_keys import FalKeyRotation
    from headshot.services.provider_keys import ProviderKeys
    from headshot.settings import Settings
    from headshot.storage.db import Database


class Scope(StrEnum):
    API = "API"
    ADMIN = "ADMIN"


def register(keys: typer.Typer) -> None:
    """Add the provider key commands to the `keys` group."""
    keys.command("add")(add_command)
    keys.command("list")(list_command)
    keys.command("retire")(retire_command)
    keys.command("revoke")(revoke_command)
    keys.command("rotate-fal")(rotate_fal_command)
    keys.command("finish-rotation")(finish_rotation_command)


def add_command(
    label: str = typer.Option("", "--label", help="A name to recognise the key by."),
    scope: Scope = typer.Option(Scope.API, "--scope", help="API runs the work; ADMIN rotates."),
    from_env: str | None = typer.Option(
        None, "--from-env", metavar="VAR", help="Read the key from this environment variable."
    ),
) -> None:
    """Store a fal key (key_id:key_secret) as the active key of its scope; the previous one
    starts retiring and finishes the work it has in flight."""
    secret = _read_secret(from_env)
    with _opened() as opened:
        view = opened.keys.add(secret, label=label, scope=scope.value)
    _say(f"Stored {view.hint} as the active {view.scope} key {view.id}.")


def list_command() -> None:
    """List the stored provider keys (hints only)."""
    from rich.table import Table

    with _opened() as opened:
        views = opened.keys.list()
    table = Table("id", "label", "scope", "state", "hint", "created", title="Provider keys")
    for view in views:
        created = f"{view.created_at:%Y-%m-%d %H:%M}"
        table.add_row(view.id, view.label, view.scope, view.state, view.hint, created)
    Console(width=160).print(table)


def retire_command(key_id: str = typer.Argument(..., help="The key's id (see `list`).")) -> None:
    """Stop using a key for new work; work in flight finishes on it."""
    with _opened() as opened:
        view = opened.keys.retire(key_id)
    _say(f"Key {view.hint} is {view.state}.")


def revoke_command(key_id: str = typer.Argument(..., help="The key's id (see `list`).")) -> None:
    """Never use a key again, not even for work in flight (this does not delete it at fal)."""
    with _opened() as opened:
        view = opened.keys.revoke(key_id)
    _say(f"Key {view.hint} is revoked.")


def rotate_fal_command() -> None:
    """Create a new API key at fal with the stored ADMIN key and make it the active one."""
    with _opened() as opened, _fal_rotation(opened) as rotation:
        view = rotation.rotate()
    _say(
        f"Key {view.hint} is now active; the previous key is retiring. Once its work is done, "
        "run `headshot keys finish-rotation ID` to delete it at fal."
    )


def finish_rotation_command(
    key_id: str = typer.Argument(..., help="The retiring key's id (see `list`)."),
) -> None:
    """Delete a retired API key at fal once no work uses it, and revoke it here."""
    with _opened() as opened, _fal_rotation(opened) as rotation:
        view = rotation.finish(key_id)
    _say(f"Key {view.hint} is deleted at fal and revoked.")


@dataclass(frozen=True)
class _Opened:
    keys: ProviderKeys
    db: Database
    settings: Settings


@contextlib.contextmanager
def _opened() -> Iterator[_Opened]:
    """The stored keys over the configured database and master key; refusals become exit 1."""
    from headshot.domain.errors import HeadshotError
    from headshot.engines.protocol import EngineError
    from headshot.settings import load_settings
    from headshot.storage.crypto import CryptoError
    from headshot.wiring import open_provider_keys

    settings = load_settings()
    try:
        with open_provider_keys(settings) as (keys, db):
            yield _Opened(keys=keys, db=db, settings=settings)
    except (HeadshotError, EngineError, CryptoError) as exc:
        Console(stderr=True).print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None


@contextlib.contextmanager
def _fal_rotation(opened: _Opened) -> Iterator[FalKeyRotation]:
    from headshot.wiring import open_fal_key_rotation

    with open_fal_key_rotation(opened.settings, opened.keys, opened.db) as rotation:
        yield rotation


def _read_secret(from_env: str | None) -> str:
    if from_env is None:
        secret: str = typer.prompt("fal key (key_id:key_secret)", hide_input=True)
        return secret
    value = os.environ.get(from_env, "")
    if not value.strip():
        raise typer.BadParameter(f"the environment variable {from_env} is not set")
    return value


def _say(message: str) -> None:
    Console(stderr=True).print(message, style="green", markup=False, highlight=False)
