"""Stores under test: blobs in memory, on disk and in S3, and data keys in memory. Other
implementations join by adding a parameter here. `s3_endpoint` (a moto server on loopback, one
per session) and `s3_client` (dummy credentials) come from the top-level conftest."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from headshot.storage.blobs import BlobStore
from headshot.storage.vault import DataKeyStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> str:
    name = f"headshot-{secrets.token_hex(6)}"
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

    client: S3Client = request.getfixturevalue("s3_client")
    return S3BlobStore(client=client, bucket=request.getfixturevalue("s3_bucket"), prefix="p/q")


@pytest.fixture(params=["memory"])
def data_key_store(request: pytest.FixtureRequest) -> DataKeyStore:
    from headshot.storage.vault import MemoryDataKeyStore

    return MemoryDataKeyStore()
