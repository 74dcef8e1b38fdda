"""Uploads to fal storage, the way `fal-client` 1.0.3 does it: the v3 CDN token flow first,
then the older `initiate` + PUT flow if v3 fails. Every upload carries the lifecycle headers so
fal deletes the object after a short time (there is no API to delete one uploaded input)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from headshot.engines.fal.client import FalHttp, FalKey
from headshot.engines.protocol import (
    EngineError,
    ProviderAccountError,
    ProviderAuthError,
)

log = logging.getLogger(__name__)

Acl = Literal["allow", "hide", "forbid"]
TOKEN_MARGIN = timedelta(seconds=60)  # refresh early so a token never expires mid-upload


@dataclass(frozen=True)
class UploadPolicy:
    """Expiry (seconds, > 0: fal reads 0 as "never") and the initial ACL default, if any."""

    expires_in_s: int
    acl: Acl | None = None

    def headers(self) -> dict[str, str]:
        preference: dict[str, object] = {"expiration_duration_seconds": self.expires_in_s}
        if self.acl is not None:
            preference["initial_acl"] = {"default": self.acl, "rules": []}
        value = json.dumps(preference, separators=(",", ":"))
        # fal-client sends both names; which one storage reads is not documented.
        return {"X-Fal-Object-Lifecycle": value, "X-Fal-Object-Lifecycle-Preference": value}


@dataclass(frozen=True)
class _CdnToken:
    authorization: str
    expires_at: datetime


class FalStorage:
    def __init__(
        self,
        http: FalHttp,
        *,
        rest_url: str,
        cdn_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._http = http
        self._rest_url = rest_url.rstrip("/")
        self._cdn_url = cdn_url.rstrip("/")
        self._clock = clock
        self._tokens: dict[str, _CdnToken] = {}
        self._lock = threading.Lock()

    def upload(
        self, data: bytes, *, key: FalKey, file_name: str, content_type: str, policy: UploadPolicy
    ) -> str:
        """Upload and return the object's URL."""
        try:
            return self._upload_v3(
                data, key=key, file_name=file_name, content_type=content_type, policy=policy
            )
        except (ProviderAuthError, ProviderAccountError):
            raise  # the fallback uses the same key and account: it would fail the same way
        except EngineError as exc:
            log.warning("fal v3 upload failed, trying the initiate flow: %s", exc)
        return self._upload_initiate(
            data, key=key, file_name=file_name, content_type=content_type, policy=policy
        )

    def _upload_v3(
        self, data: bytes, *, key: FalKey, file_name: str, content_type: str, policy: UploadPolicy
    ) -> str:
        token = self._token(key)
        headers = {
            "Content-Type": content_type,
            "X-Fal-File-Name": file_name,
            "Authorization": token.authorization,
            **policy.headers(),
        }
        body = self._http.json(
            "POST", f"{self._cdn_url}/files/upload", key=None, content=data, headers=headers
        )
        return _string(body, "access_url")

    def _token(self, key: FalKey) -> _CdnToken:
        with self._lock:
            cached = self._tokens.get(key.key_id)
            if cached and cached.expires_at - TOKEN_MARGIN > self._clock():
                return cached
        body = self._http.json(
            "POST",
            f"{self._rest_url}/storage/auth/token",
            key=key,
            params={"storage_type": "fal-cdn-v3"},
            json={},
        )
        try:
            expires_at = datetime.fromisoformat(_string(body, "expires_at"))
        except ValueError as exc:
            raise EngineError("fal CDN token has an unreadable expires_at") from exc
        token = _CdnToken(f"{_string(body, 'token_type')} {_string(body, 'token')}", expires_at)
        with self._lock:
            self._tokens[key.key_id] = token
        return token

    def _upload_initiate(
        self, data: bytes, *, key: FalKey, file_name: str, content_type: str, policy: UploadPolicy
    ) -> str:
        body = self._http.json(
            "POST",
            f"{self._rest_url}/storage/upload/initiate",
            key=key,
            params={"storage_type": "gcs"},
            json={"file_name": file_name, "content_type": content_type},
            headers=policy.headers(),
        )
        # The upload URL is pre-signed: our key must not travel with the bytes.
        self._http.request(
            "PUT",
            _string(body, "upload_url"),
            key=None,
            content=data,
            headers={"Content-Type": content_type},
        )
        return _string(body, "file_url")


def _string(body: object, name: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise EngineError(f"fal storage answer lacks {name!r}")
    return value
