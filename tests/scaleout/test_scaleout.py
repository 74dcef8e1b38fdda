"""Scale-out mode for real: PostgreSQL, Redis, S3 (moto on loopback) and a separate
`headshot worker` process. Skips loudly without the servers, except under CI=true."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from headshot.api.app import create_app
from headshot.imaging.models import FaceModels
from headshot.settings import Settings
from headshot.storage.records import AuthSession
from headshot.wiring import build_runtime
from tests.api.conftest import sign_up
from tests.api.photo_helpers import looks_like_plain_image, portrait_bytes
from tests.scaleout.conftest import wait_until


def test_web_and_worker_on_postgres_redis_s3(
    scaleout_env: dict[str, str], s3_client: Any, testdata: Path, face_models: FaceModels
) -> None:
    runtime = build_runtime(Settings(), face_models=face_models)
    services = runtime.services
    runtime.huey.flush()  # a dedicated test database: start from an empty queue
    try:
        with TestClient(create_app(services), base_url="https://testserver") as client:
            headers = sign_up(client, "scale@example.com")
            session_id = client.post("/api/v1/sessions", json={}, headers=headers).json()["id"]
            files = {"files": ("me.jpg", portrait_bytes(testdata), "image/jpeg")}
            upload = client.post(
                f"/api/v1/sessions/{session_id}/photos", files=files, headers=headers
            )
            assert upload.status_code == 201, upload.text
            photo_id = upload.json()["photos"][0]["id"]
            image = client.get(f"/api/v1/photos/{photo_id}/image", headers=headers)
            assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
            assert client.get("/readyz").json()["checks"] == {"database": "ok", "queue": "ok"}

        objects = s3_client.list_objects_v2(Bucket=scaleout_env["bucket"])["Contents"]
        assert len(objects) == 3  # original, training image, thumbnail
        for item in objects:
            body = s3_client.get_object(Bucket=scaleout_env["bucket"], Key=item["Key"])[
                "Body"
            ].read()
            assert not looks_like_plain_image(body)

        with services.db.transaction() as db:
            db.add(
                AuthSession(
                    user_id=_user_id(services),
                    token_hash="0" * 64,
                    expires_at=datetime.now(UTC) - timedelta(days=1),
                )
            )
        # Enqueued on Redis: only the worker process can run it.
        runtime.tasks.huey_task("maintenance_tick")()

        worker = subprocess.Popen(
            [sys.executable, "-m", "headshot", "worker"],
            env={**os.environ},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            purged = wait_until(lambda: _expired_sessions(services) == 0, timeout=60)
        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=30)[0].decode()
        assert purged, f"the worker did not run the job:\n{output[-3000:]}"
        assert worker.returncode == 0, output[-3000:]
        assert "maintenance_tick" in output
    finally:
        runtime.close()


def _user_id(services: Any) -> str:
    from headshot.storage.records import User

    with services.db.transaction() as db:
        return str(db.scalars(select(User.id)).one())


def _expired_sessions(services: Any) -> int:
    with services.db.transaction() as db:
        query = select(func.count(AuthSession.id)).where(AuthSession.token_hash == "0" * 64)
        return int(db.scalar(query) or 0)
