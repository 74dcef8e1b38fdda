"""Shared fixtures: databases (SQLite and PostgreSQL), settings, services and an HTTPS test client.

PostgreSQL and Redis tests skip with a loud reason when no server is reachable, except under
`CI=true`, where they must run and a missing server fails the run.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "HEADSHOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HEADSHOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parents[1]


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> None:
    """Skip loudly without the server; under CI=true a missing server is a failure."""
    if reachable(url, default_port):
        return
    message = f"{name} is not reachable at {urlsplit(url).netloc}"
    if IN_CI:
        pytest.fail(f"{message}: the {name} suite is mandatory under CI=true")
    pytest.skip(f"SKIPPED {name} SUITE: {message} (start it to run these tests)")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own HEADSHOT_* or FAL_KEY must never leak into tests.
    for name in list(os.environ):
        if name.startswith("HEADSHOT_") or name in {"FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"}:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def testdata() -> Path:
    configured = os.environ.get("HEADSHOT_TESTDATA")
    path = Path(configured) if configured else REPO.parent / "shared" / "testdata"
    faces = path / "faces"
    if not faces.is_dir():
        pytest.fail("test photos not found: set HEADSHOT_TESTDATA to the shared testdata folder")
    return faces


@pytest.fixture(scope="session")
def person(testdata: Path) -> Path:
    """testdata/person: 16 photos of one person from 16 occasions (see its PROVENANCE.md)."""
    folder = testdata.parent / "person"
    if not folder.is_dir():
        pytest.fail("the person photos are missing from the shared testdata folder")
    return folder


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def settings_for(tmp_path: Path, database_url: str, **overrides: Any) -> Any:
    from headshot.settings import Settings

    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "log_json": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on loopback for the whole test session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture(scope="session")
def face_models() -> Any:
    """The face models, loaded once for the whole test session and shared by every service."""
    from headshot.imaging.models import FaceModels

    return FaceModels()
