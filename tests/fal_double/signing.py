"""The double's webhook signing key and JWKS, signing the way fal documents (FAL.md §2.4)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class WebhookSigner:
    def __init__(self, *, key_id: str = "double-key-1") -> None:
        self.key_id = key_id
        self._private = Ed25519PrivateKey.generate()

    def jwk(self) -> dict[str, str]:
        raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.key_id, "use": "sig"}

    def headers(
        self, *, request_id: str, user_id: str, timestamp: int, body: bytes
    ) -> dict[str, str]:
        message = "\n".join(
            [request_id, user_id, str(timestamp), hashlib.sha256(body).hexdigest()]
        ).encode()
        return {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": user_id,
            "X-Fal-Webhook-Timestamp": str(timestamp),
            "X-Fal-Webhook-Signature": self._private.sign(message).hex(),
        }
