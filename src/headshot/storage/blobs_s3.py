"""`S3BlobStore`: blobs in an S3-compatible bucket (scale-out), streamed both ways."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from headshot.storage.blobs import BlobError, BlobNotFoundError
from headshot.storage.blobs_keys import check_key

CHUNK = 64 * 1024


class _IterableReader(io.RawIOBase):
    """A file object over an iterator of chunks, so uploads stream with bounded memory."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.consumed += size
        return size


class S3BlobStore:
    def __init__(self, *, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None, region: str) -> S3BlobStore:
        import boto3

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise BlobError("the blob URL must look like s3://bucket/prefix")
        client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        return cls(client=client, bucket=parts.netloc, prefix=parts.path)

    def _key(self, key: str) -> str:
        return self._prefix + check_key(key)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        reader = _IterableReader(chunks)
        # upload_fileobj switches to multipart for large blobs: memory stays bounded.
        self._client.upload_fileobj(io.BufferedReader(reader, CHUNK), self._bucket, self._key(key))
        return reader.consumed

    def get(self, key: str) -> Iterator[bytes]:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._key(key))
        except self._client.exceptions.NoSuchKey:
            raise BlobNotFoundError(key) from None
        return _stream(response["Body"])

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self._bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self._prefix) :]


def _stream(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
