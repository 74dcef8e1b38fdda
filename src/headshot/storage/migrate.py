"""Schema migrations with Alembic, configured in code so the installed package can migrate."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

# Any fixed 64-bit number, the same in every process: PostgreSQL's lock for schema upgrades.
ADVISORY_LOCK_ID = 0x48534D49475241  # "HSMIGRA"


class SchemaOutOfDateError(Exception):
    """The database schema is behind this release and this process may not upgrade it."""


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "headshot.storage:migrations")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def head_revisions() -> set[str]:
    """The revisions this release's migrations end at."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at; empty for a database never migrated."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def ensure_current(engine: Engine) -> None:
    """Raise `SchemaOutOfDateError` unless the schema is at this release's head."""
    current, heads = current_revisions(engine), head_revisions()
    if current != heads:
        found = ", ".join(sorted(current)) or "no schema"
        raise SchemaOutOfDateError(
            f"The database schema is out of date ({found}; this release needs "
            f"{', '.join(sorted(heads))}). Run `headshot migrate`, or start with --migrate."
        )


def upgrade_under_lock(engine: Engine, lock_file: Path) -> None:
    """Upgrade to head while holding an exclusive lock on `lock_file`, so two processes that
    start at once on the same embedded database migrate one after the other (the second finds
    the work done)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if current_revisions(engine) != head_revisions():
                upgrade(engine)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_under_advisory_lock(engine: Engine) -> None:
    """PostgreSQL: upgrade to head holding a session advisory lock, so processes started with
    `--migrate` at once upgrade one after the other (the later ones find the work done)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        try:
            if current_revisions(engine) != head_revisions():
                upgrade(engine)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
            connection.commit()
