"""Web Push end to end against a loopback push service that checks what real ones check: the
VAPID token (ES256 signature by the advertised key, audience, expiry, subject) and the aes128gcm
payload, which only the subscribing browser's keys decrypt."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.wiring import Runtime
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import SMALL_SET, ready_session, trained_model


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class PushService:
    """A loopback push service double: keeps each push and answers `status`."""

    port: int = 0
    status: int = 201
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            service.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(service.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


@dataclass
class Browser:
    """The subscribing browser's keys (RFC 8291)."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> Any:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def verified_claims(authorization: str, *, server_key: str) -> dict[str, Any]:
    """Check a `vapid t=…, k=…` header as a push service does; the token's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == server_key  # signed by the key the app advertised
    header, claims, signature = fields["t"].split(".")
    raw = unb64url(signature)
    assert json.loads(unb64url(header))["alg"] == "ES256"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    decoded: dict[str, Any] = json.loads(unb64url(claims))
    return decoded


def test_model_ready_push_is_signed_and_encrypted_for_the_browser(
    make_runtime: Callable[..., Runtime], testdata: Path, push_service: PushService
) -> None:
    runtime = make_runtime(
        **SMALL_SET, push_hosts=["127.0.0.1"], vapid_subject="mailto:ops@example.org"
    )
    services = runtime.services
    assert services.job_notices is not None
    browser = Browser()
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "phone@example.com")
        server_key = client.get("/api/v1/push/key", headers=headers).json()["public_key"]
        endpoint = f"{push_service.origin}/push/{secrets.token_hex(8)}"
        subscribed = client.post(
            "/api/v1/me/push-subscriptions", json=browser.subscription(endpoint), headers=headers
        )
        assert subscribed.status_code == 201, subscribed.text
        trained_model(client, headers, ready_session(client, headers, testdata))
        services.job_notices.run()

    assert len(push_service.received) == 1
    sent_headers, body = push_service.received[0]
    assert sent_headers["content-encoding"] == "aes128gcm" and int(sent_headers["ttl"]) > 0
    claims = verified_claims(sent_headers["authorization"], server_key=server_key)
    assert claims["aud"] == push_service.origin and claims["sub"] == "mailto:ops@example.org"
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert body and b"ready" not in body  # encrypted on the wire
    assert browser.decrypt(body)["title"] == "Your Headshot model is ready"
    assert (services.settings.data_dir / "vapid.pem").stat().st_mode & 0o077 == 0


def test_unknown_push_services_are_refused_and_gone_subscriptions_dropped(
    make_runtime: Callable[..., Runtime], push_service: PushService
) -> None:
    services = make_runtime(push_hosts=["127.0.0.1"]).services
    assert services.web_push is not None
    browser = Browser()
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "gone@example.com")
        for endpoint in ("https://attacker.example/collect", "http://push.example.com/x"):
            refused = client.post(
                "/api/v1/me/push-subscriptions",
                json=browser.subscription(endpoint),
                headers=headers,
            )
            assert refused.status_code == 422 and "push_endpoint" in refused.text
        endpoint = f"{push_service.origin}/push/old"
        client.post(
            "/api/v1/me/push-subscriptions", json=browser.subscription(endpoint), headers=headers
        )
        user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    push_service.status = 410  # the browser unsubscribed
    assert services.web_push.notify(user_id, title="t", body="b") == 0
    push_service.status = 201
    assert services.web_push.notify(user_id, title="t", body="b") == 0  # dropped: not sent again
    assert len(push_service.received) == 1
