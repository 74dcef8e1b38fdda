"""With a public URL, fal fetches the selfie zip from a signed URL of ours instead of fal storage
(which offers no way to delete an uploaded input), and the zip is deleted the moment the
training ends."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.storage.records import Training
from headshot.storage.vault import Vault
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session
from tests.api.test_pipeline_fal import fal_runtime
from tests.clock import SettableClock
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble

PUBLIC = "https://headshot.example"


def test_fal_fetches_the_zip_from_us_and_it_goes_when_training_ends(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    clock: SettableClock,
    testdata: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, public_url=PUBLIC)
    services = runtime.services
    vault = services.blobs
    assert isinstance(vault, Vault)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "zip@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        assert started.json()["status"] == "running"

        (request,) = fal_double.requests.values()
        url = str(request.input["images_data_url"])
        assert url.startswith(f"{PUBLIC}/api/v1/datasets/{started.json()['id']}.zip?exp=")
        assert not fal_double.uploads, "no selfie zip may land in fal storage"
        parts = urlsplit(url)
        path = f"{parts.path}?{parts.query}"
        served = client.get(path)
        assert served.status_code == 200
        members = zipfile.ZipFile(io.BytesIO(served.content)).namelist()
        assert sum(name.endswith(".jpg") for name in members) == 3
        assert sum(name.endswith(".txt") for name in members) == 3  # captions
        forged = path.replace("sig=", "sig=0")
        assert client.get(forged).status_code == 404
        with services.db.transaction() as db:
            row = db.get(Training, started.json()["id"])
            assert row is not None and row.dataset_key
            owner, key = row.user_id, row.dataset_key
        assert vault.exists(owner, key)

        run_scheduled(runtime)

        training = client.get(f"{API}/trainings/{started.json()['id']}", headers=headers).json()
        assert training["status"] == "succeeded"
        assert not vault.exists(owner, key)
        assert client.get(path).status_code == 404
        with services.db.transaction() as db:
            row = db.get(Training, started.json()["id"])
            assert row is not None and row.dataset_key is None


def test_signed_links_expire_and_leftovers_are_swept(
    make_runtime: Callable[..., Runtime],
    fal_double: FalDouble,  # noqa: F811 (the imported pytest fixture)
    clock: SettableClock,
    testdata: Path,
) -> None:
    runtime = fal_runtime(make_runtime, fal_double, **SMALL_SET, public_url=PUBLIC)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "sweep@example.com")
        session_id = ready_session(client, headers, testdata)
        started = client.post(f"{API}/sessions/{session_id}/trainings", json={}, headers=headers)
        (request,) = fal_double.requests.values()
        parts = urlsplit(str(request.input["images_data_url"]))
        path = f"{parts.path}?{parts.query}"
        clock.advance(seconds=services.settings.retention.dataset_url_ttl_s + 1)
        assert client.get(path).status_code == 404  # too late, though the training still runs

        # A crash left a zip behind a training that has ended: the retention sweep removes it.
        with services.db.transaction() as db:
            row = db.get(Training, started.json()["id"])
            assert row is not None
            row.status = "failed"
        assert services.retention.run().datasets_deleted == 1
        assert services.retention.run().datasets_deleted == 0
