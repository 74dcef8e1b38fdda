"""Blob stores under test: memory, filesystem and S3 (a moto server on loopback)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from headshot.storage.blobs import BlobStore


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
