"""What only the S3 store promises: URLs, prefixes, multipart uploads, errors as `BlobError`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from headshot.storage.blobs import BlobError, BlobNotFoundError, read_all
from headshot.storage.blobs_s3 import S3BlobStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024


def test_from_url(s3_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    store = S3BlobStore.from_url(
        f"s3://{s3_bucket}/some/prefix/", endpoint_url=s3_endpoint, region="us-east-1"
    )
    store.put("a/b", [b"hello"])
    assert read_all(store, "a/b") == b"hello"
    assert list(store.list()) == ["a/b"]


@pytest.mark.parametrize("url", ["s3:///prefix", "https://bucket/prefix", "bucket/prefix"])
def test_from_url_refuses_other_urls(url: str) -> None:
    with pytest.raises(BlobError):
        S3BlobStore.from_url(url)


def test_prefixes_keep_stores_apart(s3_client: S3Client, s3_bucket: str) -> None:
    first = S3BlobStore(client=s3_client, bucket=s3_bucket, prefix="one")
    second = S3BlobStore(client=s3_client, bucket=s3_bucket, prefix="/one-more/")
    first.put("k", [b"1"])
    second.put("k", [b"2"])
    assert list(first.list()) == ["k"] and list(second.list()) == ["k"]
    assert read_all(first, "k") == b"1"
    names = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert names == {"one/k", "one-more/k"}


def test_large_blobs_go_up_in_parts(s3_client: S3Client, s3_bucket: str) -> None:
    store = S3BlobStore(client=s3_client, bucket=s3_bucket)
    block = os.urandom(MiB)
    assert store.put("big", (block for _ in range(20))) == 20 * MiB
    etag = s3_client.head_object(Bucket=s3_bucket, Key="big")["ETag"]
    assert etag.strip('"').endswith("-3"), "20 MiB in 8 MiB parts is a 3-part upload"
    assert read_all(store, "big") == block * 20


def test_a_missing_bucket_is_a_blob_error(s3_client: S3Client) -> None:
    store = S3BlobStore(client=s3_client, bucket="headshot-never-created")
    with pytest.raises(BlobError) as put_error:
        store.put("k", [b"x"])
    assert not isinstance(put_error.value, BlobNotFoundError)
    with pytest.raises(BlobError) as get_error:
        store.get("k")
    assert not isinstance(get_error.value, BlobNotFoundError), "a setup error, not a missing blob"
    with pytest.raises(BlobError):
        list(store.list())
    with pytest.raises(BlobError):
        store.delete("k")


def test_uploads_killed_midway_are_aborted_once_old(s3_client: S3Client, s3_bucket: str) -> None:
    store = S3BlobStore(client=s3_client, bucket=s3_bucket, prefix="p")
    for key in ("p/u/alice/models/1/lora", "p/other/x", "elsewhere/u/y"):
        s3_client.create_multipart_upload(Bucket=s3_bucket, Key=key)
    # moto dates every multipart upload 2010-11-10, whenever it began: cutoffs around that.
    assert store.discard_unfinished("u/", started_before=datetime(2010, 1, 1, tzinfo=UTC)) == 0
    assert store.discard_unfinished("u/", started_before=datetime.now(UTC)) == 1

    left = s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert sorted(u["Key"] for u in left) == ["elsewhere/u/y", "p/other/x"]


def test_an_unreachable_bucket_is_a_blob_error(s3_client: S3Client) -> None:
    store = S3BlobStore(client=s3_client, bucket="no-such-bucket-here")
    with pytest.raises(BlobError):
        list(store.list_modified())
    with pytest.raises(BlobError):
        store.discard_unfinished("u/", started_before=datetime.now(UTC))
