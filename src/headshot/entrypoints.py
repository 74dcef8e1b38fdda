"""Process entry points: `headshot serve`, `headshot worker` and operator commands.

They read the settings, ask `headshot.wiring` for the object graph, and run it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from headshot.domain.privacy import DeletionReceiptView
from headshot.services.audit import AuditLog
from headshot.services.container import Services
from headshot.services.invitations import Invitations
from headshot.services.quotas import Quotas
from headshot.services.retention import RetentionReport
from headshot.settings import Settings, load_settings
from headshot.storage.db import Database
from headshot.storage.vault import Vault
from headshot.wiring import (
    build_runtime,
    load_keyring,
    make_data_key_store,
    make_provider_keys,
    open_database,
    system_clock,
)


def rotate_master_key() -> int:
    """Re-wrap every data key and provider key under a new master key; returns how many."""
    from headshot.storage.keyring import retire_previous, rotate_key_file

    settings = load_settings()
    with open_database(settings) as db:
        store = make_data_key_store(db)
        if settings.master_key:
            # Configured keys rotate by configuration: new key current, old one in previous.
            ring = load_keyring(settings)
            count = Vault.rewrap_data_keys(data_keys=store, keyring=ring)
            return count + make_provider_keys(db, ring).rewrap(ring)
        key_file = settings.data_dir / "master.key"
        ring = rotate_key_file(key_file)
        provider_keys = make_provider_keys(db, ring)
        count = Vault.rewrap_data_keys(data_keys=store, keyring=ring) + provider_keys.rewrap(ring)
        # Refuses to drop a master key that still wraps a data key (e.g. one made meanwhile).
        in_use = Vault.master_keys_in_use(store) | provider_keys.master_keys_in_use()
        retire_previous(key_file, in_use=in_use)
        return count


@contextmanager
def operator_database() -> Iterator[tuple[Settings, Database]]:
    """The settings and database for an operator command, disposed afterwards."""
    settings = load_settings()
    with open_database(settings) as db:
        yield settings, db


@contextmanager
def invitations() -> Iterator[Invitations]:
    with operator_database() as (settings, db):
        yield Invitations(
            db=db,
            audit=AuditLog(clock=system_clock),
            clock=system_clock,
            default_ttl_days=settings.invite_ttl_days,
        )


@contextmanager
def quotas() -> Iterator[Quotas]:
    from headshot.wiring import make_notifier

    with operator_database() as (settings, db):
        yield Quotas(
            db=db,
            limits=settings.quotas,
            audit=AuditLog(clock=system_clock),
            notifier=make_notifier(settings),
            clock=system_clock,
        )


def set_operator(email: str, *, operator: bool) -> bool:
    from sqlalchemy import select

    from headshot.storage.records import User

    with open_database(load_settings()) as db, db.transaction() as session:
        user = session.scalars(select(User).where(User.email == email.lower())).first()
        if user is None:
            return False
        user.is_operator = operator
        action = "operator.grant" if operator else "operator.revoke"
        AuditLog(clock=system_clock).record(
            session, subject=user.id, actor="operator", action=action
        )
        return True


def erase_user(email: str) -> DeletionReceiptView | None:
    """Erase an account as the operator; None when no account has that email. Provider
    deletions are queued for the workers (or the server's in-process worker)."""
    with build_runtime(load_settings()) as runtime:
        services = runtime.services
        user_id = _user_id(services, email)
        if user_id is None:
            return None
        return services.erasure.erase_account(user_id, actor="operator")


def _user_id(services: Services, email: str) -> str | None:
    from sqlalchemy import select

    from headshot.storage.records import User

    with services.db.transaction() as session:
        query = select(User.id).where(User.email == email.strip().lower())
        return session.scalars(query).first()


def enforce_retention() -> RetentionReport:
    with build_runtime(load_settings()) as runtime:
        return runtime.services.retention.run()


def export_user(email: str, out: Path) -> int | None:
    """Write an account's export archive to `out` (0600, complete or absent); its size, or None
    when no account has that email."""
    partial = out.with_name(f".{out.name}.partial")
    with build_runtime(load_settings()) as runtime:
        try:
            return _write_export(runtime.services, email, out, partial)
        finally:
            partial.unlink(missing_ok=True)


def _write_export(services: Services, email: str, out: Path, partial: Path) -> int | None:
    user_id = _user_id(services, email)
    if user_id is None:
        return None
    size = 0
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in services.exporter.export(user_id, actor="operator"):
            handle.write(chunk)
            size += len(chunk)
    partial.replace(out)  # a crash leaves no file that looks complete
    return size


def prepare_schema(settings: Settings, *, migrate: bool = False) -> None:
    """Make the schema fit this release before a server or worker starts. The embedded SQLite
    database is created or upgraded in place (one process at a time, under a file lock); a
    shared database is upgraded only when asked, else an out-of-date schema raises
    `SchemaOutOfDateError` naming `headshot migrate`."""
    from sqlalchemy.engine import make_url

    from headshot.storage.db import make_engine
    from headshot.storage.migrate import (
        ensure_current,
        upgrade,
        upgrade_under_advisory_lock,
        upgrade_under_lock,
    )

    url = make_url(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        if url.get_backend_name() == "sqlite":
            upgrade_under_lock(engine, _schema_lock_file(settings, url.database))
        elif migrate and url.get_backend_name() == "postgresql":
            upgrade_under_advisory_lock(engine)
        elif migrate:
            upgrade(engine)
        else:
            ensure_current(engine)
    finally:
        engine.dispose()


def _schema_lock_file(settings: Settings, database: str | None) -> Path:
    if database and database != ":memory:":
        path = Path(database)
        return path.with_name(f"{path.name}.migrate-lock")
    return settings.data_dir / "schema.migrate-lock"


def run_server(
    *, host: str | None, port: int | None, plain_http: bool, migrate: bool = False
) -> None:
    from headshot.api.app import create_asgi_app
    from headshot.jobs import InProcessConsumer
    from headshot.observability import configure_logging
    from headshot.server.runner import PlainHttpRefused, is_loopback, serve
    from headshot.server.tls import ensure_certificate

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    if plain_http and not is_loopback(host):
        raise PlainHttpRefused("--http is only allowed on a loopback address; use HTTPS")
    configure_logging(level=settings.log_level, json=settings.log_json)
    prepare_schema(settings, migrate=migrate)
    with build_runtime(settings) as runtime:
        services = runtime.services
        # Uvicorn re-raises SIGTERM after shutdown, so closing must happen in the lifespan,
        # last (its hooks run in reverse): after the consumer has stopped.
        services.on_shutdown.insert(0, runtime.close)
        if settings.in_process_worker:
            consumer = InProcessConsumer(
                runtime.huey, workers=settings.worker_threads, niceness=settings.worker_niceness
            )
            keeper = runtime.lease_keeper()
            services.on_startup.extend([consumer.start, keeper.start])
            # Run in reverse: the consumer drains first, its leases renewed meanwhile.
            services.on_shutdown.extend([keeper.stop, lambda: consumer.stop(timeout=20)])
        cert = None
        if not plain_http:
            cert = ensure_certificate(
                data_dir=settings.data_dir,
                cert_file=settings.tls_cert_file,
                key_file=settings.tls_key_file,
                hostnames=[host, *_public_hostname(settings)],
            )
        app = create_asgi_app(services)
        serve(app, host=host, port=port, cert=cert, log_level=settings.log_level)


def _public_hostname(settings: Settings) -> list[str]:
    host = urlsplit(settings.public_url).hostname if settings.public_url else None
    return [host] if host else []


def run_worker(*, migrate: bool = False) -> None:
    from headshot.jobs import run_worker as consume
    from headshot.observability import configure_logging

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    prepare_schema(settings, migrate=migrate)
    with build_runtime(settings) as runtime:
        keeper = runtime.lease_keeper()
        keeper.start()
        try:
            consume(runtime.huey, workers=settings.worker_threads)
        finally:
            keeper.stop()
