"""The official `fal-client` 1.0.3 drives the double: if fal's own client is satisfied with the
double's answers, the double speaks fal's protocol (as far as the client exercises it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import fal_client
import fal_client.client as fal_module
import httpx
import pytest

from tests.fal_double import API_KEY, GENERATOR, TRAINER, FalDouble, Fault


@pytest.fixture
def client(
    fal_double: FalDouble, monkeypatch: pytest.MonkeyPatch
) -> Iterator[fal_client.SyncClient]:
    # FAL.md §6.5: the client hard-codes https hosts; its URL constants can be patched.
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", f"{fal_double.queue_url}/")
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", f"{fal_double.base_url}/run/")
    monkeypatch.setattr(fal_module, "REST_URL", fal_double.rest_url)
    monkeypatch.setattr(fal_module, "CDN_URL", fal_double.cdn_url)
    yield fal_client.SyncClient(key=API_KEY)


def _arguments() -> dict[str, object]:
    return {
        "prompt": "TOK headshot",
        "loras": [{"path": "https://v3.fal.media/files/lora.safetensors", "scale": 1.0}],
        "image_size": {"width": 512, "height": 640},
        "num_images": 2,
        "seed": 7,
    }


def test_submit_status_result(fal_double: FalDouble, client: fal_client.SyncClient) -> None:
    handle = client.submit(GENERATOR, _arguments(), webhook_url="https://example.test/hook?x=1")

    (submit,) = fal_double.received_on("submit")
    assert submit.headers["authorization"] == f"Key {API_KEY}"
    assert submit.query["fal_webhook"] == "https://example.test/hook?x=1"
    assert handle.status_url.startswith(fal_double.queue_url)

    queued = handle.status(with_logs=True)
    assert isinstance(queued, fal_client.Queued) and queued.position == 0
    running = handle.status(with_logs=True)
    assert isinstance(running, fal_client.InProgress)
    assert running.logs and running.logs[0]["message"] == "Starting request"
    assert fal_double.received_on("status")[-1].query["logs"] == "true"

    fal_double.complete_all()
    result = handle.get()
    assert len(result["images"]) == 2 and result["seed"] == 7
    assert httpx.get(result["images"][1]["url"]).headers["content-type"] == "image/jpeg"
    assert fal_double.billable_submits(GENERATOR) == 1


def test_completed_with_error(fal_double: FalDouble, client: fal_client.SyncClient) -> None:
    fal_double.inject(Fault("submit", "fail_request"))
    handle = client.submit(TRAINER, {"images_data_url": "https://example.test/x.zip"})
    fal_double.complete_all()

    status = handle.status(with_logs=True)
    assert isinstance(status, fal_client.Completed)
    assert status.error and status.error_type == "image_load_error"
    with pytest.raises(fal_client.FalClientHTTPError) as raised:
        handle.get()
    assert raised.value.status_code == 422


def test_cancel(fal_double: FalDouble, client: fal_client.SyncClient) -> None:
    handle = client.submit(GENERATOR, _arguments())
    handle.cancel()
    status = handle.status()
    assert isinstance(status, fal_client.Completed) and status.error_type == "client_cancelled"
    with pytest.raises(fal_client.FalClientHTTPError) as raised:
        handle.cancel()
    assert raised.value.status_code == 400


def test_validation_error_shape(fal_double: FalDouble, client: fal_client.SyncClient) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as raised:
        client.submit(GENERATOR, {"prompt": "x", "num_images": 9})
    assert raised.value.status_code == 422
    detail: Any = raised.value.message  # typed str, but fal's 422 detail is a list
    assert detail[0]["loc"] == ["body", "num_images"]


def test_upload_v3_with_lifecycle(fal_double: FalDouble, client: fal_client.SyncClient) -> None:
    url = client.upload(
        b"zip bytes",
        "application/zip",
        file_name="train.zip",
        lifecycle=fal_client.StorageSettings(expires_in="1h"),
    )

    (upload,) = fal_double.uploads
    assert (upload.flow, upload.url, upload.file_name) == ("v3", url, "train.zip")
    assert upload.lifecycle["expiration_duration_seconds"] == 3600
    assert httpx.get(url).content == b"zip bytes"


def test_upload_falls_back_to_initiate(
    fal_double: FalDouble, client: fal_client.SyncClient
) -> None:
    fal_double.inject(Fault("cdn_upload", "status", status=403))
    url = client.upload(
        b"zip bytes",
        "application/zip",
        file_name="train.zip",
        lifecycle=fal_client.StorageSettings(expires_in=600),
    )

    (upload,) = fal_double.uploads
    assert (upload.flow, upload.url) == ("initiate", url)
    assert upload.lifecycle == {"expiration_duration_seconds": 600}
    initiate = fal_double.received_on("initiate")[0]
    assert json.loads(initiate.body) == {
        "file_name": "train.zip",
        "content_type": "application/zip",
    }
