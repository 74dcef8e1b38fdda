"""Alembic environment: the engine is handed in by `headshot.storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from headshot.storage.records import Base


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through `headshot migrate`")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
