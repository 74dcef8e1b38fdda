"""Blob stores under test: memory, filesystem and S3 (a moto server on loopback)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headshot.storage.blobs import BlobStore


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
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


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    name = f"headshot-{secrets.token_hex(4)}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["memory", "fs", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        from headshot.storage.blobs_memory import MemoryBlobStore

        return MemoryBlobStore()
    if request.param == "fs":
        from headshot.storage.blobs_fs import FsBlobStore

        return FsBlobStore(tmp_path / "blobs")
    from headshot.storage.blobs_s3 import S3BlobStore

    client = request.getfixturevalue("s3_client")
    return S3BlobStore(client=client, bucket=request.getfixturevalue("s3_bucket"), prefix="p/q")
