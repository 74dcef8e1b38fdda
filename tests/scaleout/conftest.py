"""Scale-out fixtures: PostgreSQL, Redis and S3 (moto) on loopback, as environment settings."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from headshot.storage.db import make_engine
from headshot.storage.migrate import upgrade
from tests.conftest import REDIS_URL, require_service


@pytest.fixture
def scaleout_env(
    tmp_path: Path,
    postgres_url: str,
    s3_endpoint: str,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    require_service("Redis", REDIS_URL, 6379)
    bucket = f"scaleout-{secrets.token_hex(4)}"
    s3_client.create_bucket(Bucket=bucket)
    env = {
        "HEADSHOT_DATA_DIR": str(tmp_path / "node"),
        "HEADSHOT_DATABASE_URL": postgres_url,
        "HEADSHOT_REDIS_URL": REDIS_URL,
        "HEADSHOT_BLOB_URL": f"s3://{bucket}/blobs",
        "HEADSHOT_S3_ENDPOINT_URL": s3_endpoint,
        "HEADSHOT_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "HEADSHOT_IN_PROCESS_WORKER": "false",
        "HEADSHOT_LOG_JSON": "true",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()
    env["bucket"] = bucket
    yield env


def wait_until(condition: Callable[[], bool], *, timeout: float) -> bool:
    """Poll `condition` every 0.2 s; whether it became true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False
