"""A fresh start: `serve` and `worker` bring the schema up by themselves on SQLite, and refuse an
out-of-date shared (PostgreSQL) schema with a message that names `headshot migrate`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from headshot.api.app import create_app
from headshot.entrypoints import prepare_schema
from headshot.storage.db import make_engine
from headshot.storage.migrate import (
    SchemaOutOfDateError,
    current_revisions,
    head_revisions,
    upgrade,
)
from headshot.storage.records import Base
from headshot.wiring import build_services
from tests.conftest import settings_for
from tests.e2e.test_serve import _free_port, _trust, _wait_healthy


def test_serve_on_an_empty_data_dir_serves_a_working_sign_up(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = {**os.environ, "HEADSHOT_DATA_DIR": str(data), "HEADSHOT_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "headshot", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        cert = data / "tls" / "cert.pem"
        base = f"https://localhost:{port}"
        assert _wait_healthy(f"{base}/healthz", cert, process).status_code == 200
        with httpx.Client(base_url=base, verify=_trust(cert), timeout=10) as client:
            assert client.get("/readyz").status_code == 200
            account = {"email": "first@example.com", "password": "correct horse battery"}
            registered = client.post("/api/v1/auth/register", json=account)
            assert registered.status_code == 201, registered.text
            login = client.post("/api/v1/auth/login", json=account)
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["email"] == "first@example.com"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def _migrate_together(env: dict[str, str], tmp_path: Path, *, migrate: bool) -> None:
    """Two processes, imports done, released at the same instant into `prepare_schema`."""
    go = tmp_path / "go"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from headshot.entrypoints import prepare_schema\n"
        "from headshot.settings import load_settings\n"
        "settings = load_settings()\n"
        "Path(sys.argv[1]).touch()\n"
        "while not Path(sys.argv[2]).exists():\n"
        "    time.sleep(0.005)\n"
        f"prepare_schema(settings, migrate={migrate})\n"
    )
    ready = [tmp_path / f"ready{n}" for n in range(2)]
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(flag), str(go)], env=env, stderr=subprocess.PIPE
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    errors = [process.communicate(timeout=120)[1].decode() for process in starts]
    assert [process.returncode for process in starts] == [0, 0], errors


def test_two_processes_starting_at_once_migrate_one_after_the_other(tmp_path: Path) -> None:
    database = tmp_path / "data" / "headshot.db"
    _migrate_together(
        {**os.environ, "HEADSHOT_DATA_DIR": str(tmp_path / "data")}, tmp_path, migrate=False
    )
    engine = make_engine(f"sqlite:///{database}")
    try:
        assert current_revisions(engine) == head_revisions()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_an_old_postgres_schema_is_refused_until_migrated(
    tmp_path: Path, postgres_url: str
) -> None:
    engine = make_engine(postgres_url)
    try:
        upgrade(engine, "0001")
        settings = settings_for(tmp_path, postgres_url)
        with pytest.raises(SchemaOutOfDateError, match="headshot migrate"):
            prepare_schema(settings)
        assert current_revisions(engine) == {"0001"}  # nothing changed behind the operator
        prepare_schema(settings, migrate=True)
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()


def test_readyz_fails_on_an_old_postgres_schema(tmp_path: Path, postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine, "0002")
    engine.dispose()
    services = build_services(settings_for(tmp_path, postgres_url))
    try:
        with TestClient(create_app(services), base_url="https://testserver") as client:
            ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "failing"
    finally:
        services.db.dispose()


def test_serve_refuses_an_old_postgres_schema_naming_migrate(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {
        **os.environ,
        "HEADSHOT_DATABASE_URL": postgres_url,
        "HEADSHOT_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "headshot", "serve", "--http"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "headshot migrate" in result.stderr


def test_two_processes_migrating_postgres_at_once(postgres_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HEADSHOT_DATABASE_URL": postgres_url,
        "HEADSHOT_DATA_DIR": str(tmp_path / "data"),
    }
    _migrate_together(env, tmp_path, migrate=True)
    engine = make_engine(postgres_url)
    try:
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()
