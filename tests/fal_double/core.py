"""The double's shared state: keys, requests, stored files, uploads, webhooks, counters."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import threading
import uuid
import zipfile
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx

from tests.fal_double.faults import FaultInjector, FaultPlan
from tests.fal_double.media import fake_safetensors, gradient_jpeg, portrait_jpeg
from tests.fal_double.signing import WebhookSigner
from tests.fal_double.state import TRAINER, DoubleClock, FakeRequest, Pace
from tests.fal_double.wire import Incoming, ReceivedRequest, Reply, UploadRecord, WebhookDelivery

API_KEY = "double-key:double-secret"
ADMIN_KEY = "double-admin:admin-secret"
DEFAULT_KEYS: Mapping[str, str] = {API_KEY: "API", ADMIN_KEY: "ADMIN"}
USER_ID = "double-user"


class DoubleCore:
    def __init__(
        self,
        *,
        seed: int,
        faults: FaultPlan,
        pace: Pace,
        keys: Mapping[str, str],
        deliver_webhooks: bool,
    ) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.faults = FaultInjector(faults, rng=self.rng)
        self.pace = pace
        self.keys = dict(keys)
        self.clock = DoubleClock()
        self.signer = WebhookSigner()
        self.deliver_webhooks = deliver_webhooks
        self.base_url = ""  # set once the socket is bound
        self.requests: dict[str, FakeRequest] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # URL path -> (content, content type)
        self.archives: dict[str, dict[str, bytes]] = {}  # request id -> zip members
        # What each LoRA we made "learned": SHA-256 of its file -> the training photos.
        self.lora_faces: dict[str, list[bytes]] = {}
        self.received: list[ReceivedRequest] = []
        self.uploads: list[UploadRecord] = []
        self.webhooks: list[WebhookDelivery] = []
        self.billable: Counter[str] = Counter()
        self.cdn_tokens: set[str] = set()
        self.pending_puts: dict[str, tuple[str, str, Any]] = {}
        self.locked_reason: str | None = None
        self.created_keys: list[str] = []  # aliases of keys made through the key API
        self.deleted_keys: list[str] = []  # key ids deleted through it

    # -- identity and auth --------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def auth(self, inc: Incoming, *, billable: bool = False, admin: bool = False) -> Reply | None:
        """None when the key is good, else fal's refusal."""
        header = inc.headers.get("authorization", "")
        scope = self.keys.get(header.removeprefix("Key ")) if header.startswith("Key ") else None
        if scope is None:
            return Reply.of(401, {"detail": "No user found for Key ID and Secret"})
        if billable and self.locked_reason:
            return Reply.of(403, {"detail": f"User is locked. Reason: {self.locked_reason}"})
        if admin and scope != "ADMIN":
            return Reply.of(403, {"detail": "This operation requires an ADMIN key"})
        return None

    # -- files --------------------------------------------------------------------------

    def store_file(self, path: str, content: bytes, content_type: str) -> str:
        with self.lock:
            self.files[path] = (content, content_type)
        return self.url(path)

    def file_at(self, url: str) -> bytes | None:
        path = url.removeprefix(self.base_url).split("?", 1)[0]
        with self.lock:
            entry = self.files.get(path)
        return entry[0] if entry else None

    def inspect_archive(self, request: FakeRequest) -> None:
        """Record the zip's members when it is a file the double holds (upload or `host_file`)."""
        content = self.file_at(str(request.input.get("images_data_url", "")))
        if content is None:
            return
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                self.archives[request.request_id] = {
                    name: archive.read(name) for name in archive.namelist()
                }
        except zipfile.BadZipFile:
            request.failure = "images_data_url is not a zip archive"

    # -- request lifecycle --------------------------------------------------------------

    def advance(self, request: FakeRequest, ticks: int) -> None:
        for _ in range(ticks):
            if request.tick(self.pace):
                self.finish(request)

    def finish(self, request: FakeRequest) -> None:
        """Outputs and the webhook of a request that just completed."""
        if request.error is None:
            self._make_outputs(request)
        if request.webhook_url:
            self._send_webhook(request)

    def _make_outputs(self, request: FakeRequest) -> None:
        prefix = f"/cdn/files/out/{request.request_id}"
        if request.endpoint == TRAINER:
            lora = fake_safetensors(seed=request.seed % 251, salt=request.request_id)
            photos = [
                content
                for name, content in sorted(self.archives.get(request.request_id, {}).items())
                if name.lower().endswith((".jpg", ".jpeg", ".png"))
            ]
            self.lora_faces[hashlib.sha256(lora).hexdigest()] = photos
            request.files["lora"] = self.store_file(
                f"{prefix}/pytorch_lora_weights.safetensors", lora, "application/octet-stream"
            )
            config = json.dumps({"steps": request.input.get("steps"), "rank": 4}).encode()
            request.files["config"] = self.store_file(
                f"{prefix}/config.json", config, "application/json"
            )
            return
        width, height = int(request.input["_width"]), int(request.input["_height"])
        faces = self._faces_of(request)
        for i in range(int(request.input.get("num_images", 1))):
            if faces:
                image = portrait_jpeg(faces[i % len(faces)], width, height, seed=request.seed + i)
            else:  # a LoRA we did not make: still a real JPEG, without a face
                image = gradient_jpeg(width, height, seed=request.seed + i, label=f"#{i}")
            request.files[f"image{i}"] = self.store_file(f"{prefix}/{i}.jpg", image, "image/jpeg")

    def _faces_of(self, request: FakeRequest) -> list[bytes]:
        for lora in request.input.get("loras") or []:
            content = self.file_at(str(lora.get("path", "")))
            if content is not None:
                return self.lora_faces.get(hashlib.sha256(content).hexdigest(), [])
        return []

    def _send_webhook(self, request: FakeRequest) -> None:
        payload: dict[str, Any] = {
            "request_id": request.request_id,
            "gateway_request_id": request.request_id,
        }
        if request.error is None:
            payload.update(status="OK", payload=request.output())
        else:
            payload.update(
                status="ERROR",
                error="Invalid status code: 422",
                payload={"detail": request.error_detail()},
            )
        body = json.dumps(payload).encode()
        headers = self.signer.headers(
            request_id=request.request_id,
            user_id=USER_ID,
            timestamp=int(self.clock.now()),
            body=body,
        )
        delivery = WebhookDelivery(str(request.webhook_url), headers, body)
        self.webhooks.append(delivery)
        if self.deliver_webhooks:
            threading.Thread(target=_post, args=(delivery,), daemon=True).start()


def _post(delivery: WebhookDelivery) -> None:
    # fal would retry a failed delivery; tests that care read `webhooks` instead.
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(
            delivery.url,
            content=delivery.body,
            headers={**delivery.headers, "Content-Type": "application/json"},
            timeout=5.0,
        )
