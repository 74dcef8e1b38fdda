"""fal webhooks: signature verification (ED25519 over fal's JWKS) and the payload as a value.

fal signs `request_id \\n user_id \\n timestamp \\n hex(sha256(raw body))` with Ed25519; the
public keys come from a JWKS we cache for at most 24 h. We also put our own job id and an HMAC
token in the webhook URL, so a webhook proves which job it belongs to even when the submit's
answer was lost (see docs/engines.md, "Submit safety").

    WebhookError
    ├── WebhookRejectedError      answer 4xx: the delivery is not genuine or not ours
    └── WebhookKeysUnavailableError  answer 5xx: we could not fetch fal's keys; fal retries
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from headshot.engines.fal.client import check_url

TOLERANCE_S = 300
JWKS_TTL_S = 24 * 3600
JWKS_REFRESH_ON_MISS_S = 300  # a key we do not know may be a rotation: refetch, but not often
_HEADERS = ("request-id", "user-id", "timestamp", "signature")


class WebhookError(Exception):
    """A webhook could not be accepted."""


class WebhookRejectedError(WebhookError):
    """Not a genuine fal delivery for one of our jobs."""


class WebhookKeysUnavailableError(WebhookError):
    """fal's JWKS could not be fetched; the delivery may be fine, so let fal retry it."""


@dataclass(frozen=True)
class FalWebhookEvent:
    request_id: str  # the body's request_id: look the job up by this
    gateway_request_id: str | None
    status: Literal["OK", "ERROR"]
    payload: Any  # model output (OK), error body (ERROR), or None (see payload_error)
    error: str | None = None
    payload_error: str | None = None  # output not serialisable: fetch it from the queue
    job_id: str | None = None  # from our webhook URL, set only when its token checked out


def webhook_token(secret: bytes, job_id: str) -> str:
    """The unguessable token we put next to `job` in our webhook URL."""
    return hmac.new(secret, f"fal-webhook:{job_id}".encode(), hashlib.sha256).hexdigest()[:40]


class FalWebhookVerifier:
    """`verify(headers, body, query=...)` is what the webhook route calls, from a worker thread
    (the first call of a day fetches the JWKS over the network)."""

    def __init__(
        self,
        *,
        rest_url: str,
        token_secret: bytes | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
        tolerance_s: int = TOLERANCE_S,
        jwks_ttl_s: int = JWKS_TTL_S,
    ) -> None:
        self._jwks_url = check_url(f"{rest_url.rstrip('/')}/.well-known/jwks.json")
        self._token_secret = token_secret
        self._clock = clock
        self._transport = transport
        self._tolerance_s = tolerance_s
        self._ttl_s = min(jwks_ttl_s, JWKS_TTL_S)
        self._keys: list[Ed25519PublicKey] = []
        self._fetched_at: datetime | None = None
        self._lock = threading.Lock()

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, query: Mapping[str, str] | None = None
    ) -> FalWebhookEvent:
        values = _signed_headers(headers)
        now = self._clock()
        try:
            timestamp = int(values["timestamp"])
        except ValueError:
            raise WebhookRejectedError("unreadable webhook timestamp") from None
        if abs(now.timestamp() - timestamp) > self._tolerance_s:
            raise WebhookRejectedError("webhook timestamp outside the tolerance window")
        message = "\n".join(
            [
                values["request-id"],
                values["user-id"],
                values["timestamp"],
                hashlib.sha256(body).hexdigest(),
            ]
        ).encode()
        try:
            signature = bytes.fromhex(values["signature"])
        except ValueError:
            raise WebhookRejectedError("webhook signature is not hex") from None
        if not self._any_key_verifies(signature, message):
            raise WebhookRejectedError("no fal key verifies the webhook signature")
        return parse_event(body, job_id=self._job_id(query or {}))

    def _job_id(self, query: Mapping[str, str]) -> str | None:
        job_id, token = query.get("job"), query.get("token")
        if job_id is None:
            return None
        if self._token_secret is None or token is None:
            raise WebhookRejectedError("webhook names a job but carries no valid token")
        if not hmac.compare_digest(token, webhook_token(self._token_secret, job_id)):
            raise WebhookRejectedError("webhook job token does not match")
        return job_id

    def _any_key_verifies(self, signature: bytes, message: bytes) -> bool:
        keys, age_s = self._current_keys()
        if _verifies(keys, signature, message):
            return True
        if age_s < JWKS_REFRESH_ON_MISS_S:
            return False
        keys, _ = self._current_keys(force=True)
        return _verifies(keys, signature, message)

    def _current_keys(self, *, force: bool = False) -> tuple[list[Ed25519PublicKey], float]:
        with self._lock:
            now = self._clock()
            age = (now - self._fetched_at).total_seconds() if self._fetched_at else None
            if force or age is None or age >= self._ttl_s or age < 0:
                self._keys = self._fetch_keys()
                self._fetched_at, age = now, 0.0
            return list(self._keys), age

    def _fetch_keys(self) -> list[Ed25519PublicKey]:
        try:
            with httpx.Client(transport=self._transport, timeout=10.0) as client:
                response = client.get(self._jwks_url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WebhookKeysUnavailableError(f"could not fetch fal's JWKS: {exc}") from exc
        keys = [key for entry in document.get("keys", []) if (key := _public_key(entry))]
        if not keys:
            raise WebhookKeysUnavailableError("fal's JWKS holds no Ed25519 key")
        return keys


def _signed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name in _HEADERS:
        value = lowered.get(f"x-fal-webhook-{name}")
        if not value:
            raise WebhookRejectedError(f"missing X-Fal-Webhook-{name.title()} header")
        values[name] = value.strip()
    return values


def _public_key(entry: Any) -> Ed25519PublicKey | None:
    if not isinstance(entry, Mapping) or entry.get("crv", "Ed25519") != "Ed25519":
        return None
    x = entry.get("x")
    if not isinstance(x, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return None


def _verifies(keys: list[Ed25519PublicKey], signature: bytes, message: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def parse_event(body: bytes, *, job_id: str | None = None) -> FalWebhookEvent:
    """The webhook body (already authenticated) as a value."""
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookRejectedError("webhook body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("request_id"), str):
        raise WebhookRejectedError("webhook body lacks request_id")
    status = data.get("status")
    if status not in ("OK", "ERROR"):
        raise WebhookRejectedError(f"unknown webhook status {status!r}")
    gateway = data.get("gateway_request_id")
    error, payload_error = data.get("error"), data.get("payload_error")
    return FalWebhookEvent(
        request_id=data["request_id"],
        gateway_request_id=gateway if isinstance(gateway, str) else None,
        status=status,
        payload=data.get("payload"),
        error=str(error) if error is not None else None,
        payload_error=str(payload_error) if payload_error is not None else None,
        job_id=job_id,
    )
