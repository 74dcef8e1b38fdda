"""Alembic environment: the engine is handed in by `headshot.storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from headshot.storage.records import Base


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through `headshot migrate`")
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # SQLite rebuilds a table to alter it (copy, drop, rename); with foreign keys on, the
            # drop would cascade and delete every row that points at the table. The pragma only
            # takes effect outside a transaction, hence before `begin`.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with connection.begin():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


run_migrations()
