"""`S3BlobStore`: blobs in an S3-compatible bucket (scale-out), streamed both ways.

Uploads go through `upload_fileobj` over a file object that pulls from the caller's chunks, so a
large blob is sent as a multipart upload one part at a time (memory stays near one part, 8 MiB
by default) and only appears once complete. Server-side encryption is not relied on: the vault
encrypts before anything reaches the bucket. botocore failures surface as `BlobError`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from headshot.storage.blobs import BlobError, BlobInfo, BlobNotFoundError
from headshot.storage.blobs_keys import check_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK = 64 * 1024
PART = 8 * 1024 * 1024
_FAILURES = (BotoCoreError, ClientError, Boto3Error)


class S3BlobStore:
    def __init__(
        self,
        *,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        transfer: TransferConfig | None = None,
    ) -> None:
        """`transfer` defaults to one part at a time in the calling thread: bounded memory, and
        the caller's chunk iterator is never consumed from another thread."""
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._transfer = transfer or TransferConfig(
            multipart_threshold=PART, multipart_chunksize=PART, use_threads=False
        )

    @classmethod
    def from_url(
        cls, url: str, *, endpoint_url: str | None = None, region: str | None = None
    ) -> S3BlobStore:
        """A store for `s3://bucket/optional/prefix`, with credentials from the environment."""
        import boto3

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise BlobError("the blob URL must look like s3://bucket/prefix")
        client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        return cls(client=client, bucket=parts.netloc, prefix=parts.path)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        name = self._name(key)
        reader = _ChunkReader(chunks)
        try:
            self._client.upload_fileobj(
                io.BufferedReader(reader, CHUNK), self._bucket, name, Config=self._transfer
            )
        except _FAILURES as exc:
            raise BlobError(f"could not store the blob: {_reason(exc)}") from exc
        return reader.consumed

    def get(self, key: str) -> Iterator[bytes]:
        name = self._name(key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=name)
        except self._client.exceptions.NoSuchKey:
            raise BlobNotFoundError(key) from None
        except _FAILURES as exc:
            raise BlobError(f"could not read the blob: {_reason(exc)}") from exc
        return _BodyChunks(response["Body"])

    def delete(self, key: str) -> None:
        name = self._name(key)
        try:
            self._client.delete_object(Bucket=self._bucket, Key=name)
        except _FAILURES as exc:
            raise BlobError(f"could not delete the blob: {_reason(exc)}") from exc

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self._client.head_object(Bucket=self._bucket, Key=name)
        except ClientError as exc:
            if _reason(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise BlobError(f"could not check the blob: {_reason(exc)}") from exc
        except _FAILURES as exc:
            raise BlobError(f"could not check the blob: {_reason(exc)}") from exc
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        return (info.key for info in self.list_modified(prefix))

    def list_modified(self, prefix: str = "") -> Iterator[BlobInfo]:
        # ListObjectsV2 pages (1000 keys each) come in key order, so one folder's keys come
        # together. A multipart upload's LastModified may be when the upload began, not ended.
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self._prefix) :]
                    yield BlobInfo(key, item["LastModified"].astimezone(UTC))
        except _FAILURES as exc:
            raise BlobError(f"could not list blobs: {_reason(exc)}") from exc

    def discard_unfinished(self, prefix: str, *, started_before: datetime) -> int:
        # A killed upload leaves its parts stored (and billed) until the upload is aborted.
        removed = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] >= started_before:
                        continue
                    self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        except _FAILURES as exc:
            raise BlobError(f"could not abort unfinished uploads: {_reason(exc)}") from exc
        return removed

    def _name(self, key: str) -> str:
        return self._prefix + check_key(key)


class _ChunkReader(io.RawIOBase):
    """A read-only file object over an iterator of chunks, for `upload_fileobj`."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]  # a view: no copy of the remainder
        self.consumed += size
        return size


class _BodyChunks(Iterator[bytes]):
    """The response body in chunks; the connection is released at the end, on `close()`, or
    when dropped unread."""

    def __init__(self, body: Any) -> None:
        self._closed = False
        self._body = body
        self._chunks: Iterator[bytes] = body.iter_chunks(CHUNK)

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except _FAILURES as exc:
            self.close()
            raise BlobError(f"could not read the blob: {_reason(exc)}") from exc

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._body.close()

    def __del__(self) -> None:
        self.close()


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "error"))
    return type(exc).__name__
