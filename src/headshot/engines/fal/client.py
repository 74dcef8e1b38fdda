"""A thin HTTP client for fal.ai: one `httpx.Client`, the key chosen per call, and a precise
mapping of every failure onto the engine error tree (`headshot.engines.protocol`):

    transport failure before the request left (connect, DNS, pool)  ProviderUnreachableError
    transport failure after it left, on a submit                     FalSubmitOutcomeUnknownError
    transport failure after it left, elsewhere                       RetryableEngineError
    401                                                              ProviderAuthError
    403                                                              ProviderAccountError
    422                                                              EngineRejectedError(details)
    408/429/502/503/504 (Retry-After honoured)                       RetryableEngineError
    a submit's 5xx that fal stamped with x-fal-request-id, or 500    FalSubmitOutcomeUnknownError
    other 5xx outside a submit                                       RetryableEngineError
    anything else >= 400                                             EngineError

The client never retries: retry policy belongs to the job code, and a retried submit could buy
a second paid training.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from headshot.engines.protocol import (
    EngineError,
    EngineRejectedError,
    ProviderAccountError,
    ProviderAuthError,
    ProviderUnreachableError,
    RetryableEngineError,
    SubmitOutcomeUnknownError,
)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
DOWNLOAD_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FalKey:
    """One fal key; the secret never appears in a repr or a message."""

    key_id: str
    secret: str = field(repr=False)

    @property
    def authorization(self) -> str:
        return f"Key {self.key_id}:{self.secret}"


class FalSubmitOutcomeUnknownError(SubmitOutcomeUnknownError):
    """A submit whose fate is unknown. `request_id` is set when fal stamped one on a failed
    answer, which lets reconciliation look that request up directly."""


def check_url(url: str) -> str:
    """Refuse anything but https, or plain http to a loopback host (tests, the double): keys
    and selfies must never travel in clear text, even if a response handed us such a URL."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return url
    raise EngineError(f"refusing non-https provider URL {parts.scheme}://{parts.hostname}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FalHttp:
    """Sends one request, maps its failure; `key=None` sends no credentials (CDN downloads)."""

    def __init__(
        self,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        key: FalKey | None,
        submit: bool = False,
        ok_statuses: frozenset[int] = frozenset(),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send and return the response; raise the mapped error unless it is 2xx or listed in
        `ok_statuses` (e.g. cancel's 400/404, which callers treat as outcomes)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if key is not None:
            headers["Authorization"] = key.authorization
        try:
            response = self._client.request(method, check_url(url), headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise _transport_error(exc, method=method, url=url, submit=submit) from exc
        if response.status_code not in ok_statuses:
            raise_for_status(response, submit=submit)
        return response

    def json(self, method: str, url: str, *, key: FalKey | None, **kwargs: Any) -> Any:
        response = self.request(method, url, key=key, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise RetryableEngineError(f"fal sent invalid JSON from {_where(url)}") from exc

    def download(self, url: str, *, max_bytes: int) -> tuple[bytes, str | None]:
        """Stream a public output file into one buffer, refusing anything over `max_bytes` before
        it is all in memory. Returns the bytes and the content type. No key is sent: outputs are
        public URLs and our key must not follow them."""
        try:
            with self._client.stream("GET", check_url(url)) as response:
                raise_for_status(response, submit=False)
                declared = int(response.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise EngineError(f"fal file is {declared} bytes, over {max_bytes}")
                buffer = bytearray()
                for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                    buffer += chunk
                    if len(buffer) > max_bytes:
                        raise EngineError(f"fal file exceeds {max_bytes} bytes")
                return bytes(buffer), response.headers.get("content-type")
        except httpx.TransportError as exc:
            raise _transport_error(exc, method="GET", url=url, submit=False) from exc


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}{parts.path}"


def _transport_error(
    exc: httpx.TransportError, *, method: str, url: str, submit: bool
) -> EngineError:
    where = f"{method} {_where(url)}"
    # These fail before a byte of the request is written, so fal provably saw nothing.
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ProviderUnreachableError(f"fal unreachable ({type(exc).__name__}) on {where}")
    if submit:
        return FalSubmitOutcomeUnknownError(
            f"submit sent but no answer ({type(exc).__name__}) on {where}"
        )
    return RetryableEngineError(f"fal transport failure ({type(exc).__name__}) on {where}")


def raise_for_status(response: httpx.Response, *, submit: bool) -> None:
    code = response.status_code
    if code < 400:
        return
    if not response.is_stream_consumed:
        response.read()
    detail = error_detail(response)
    message = f"fal answered {code} on {response.request.method} {_where(str(response.url))}"
    message += f": {_short(detail)}"
    if code == 401:
        raise ProviderAuthError(message)
    if code == 403:
        raise ProviderAccountError(message)
    if code == 422:
        raise EngineRejectedError(message, details=detail)
    fal_request_id = response.headers.get("x-fal-request-id")
    if submit and code >= 500 and (code == 500 or fal_request_id):
        # fal's app layer saw the submit (it stamped an id, or failed inside): it may be queued.
        raise FalSubmitOutcomeUnknownError(message, request_id=fal_request_id)
    if code in RETRYABLE_STATUSES or code >= 500:
        raise RetryableEngineError(message, retry_after_s=retry_after(response.headers))
    raise EngineError(message)


def error_detail(response: httpx.Response) -> Any:
    """fal's `detail`: a list of {loc, msg, type} for validation errors, else a string."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return response.text[:500]
    if isinstance(body, Mapping):
        return body.get("detail", body)
    return body


def _short(detail: Any) -> str:
    if isinstance(detail, list):
        parts = [
            f"{item.get('type', '?')} at {item.get('loc', '?')}"
            for item in detail
            if isinstance(item, Mapping)
        ]
        return "; ".join(parts)[:300] or "validation error"
    return str(detail)[:300]


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
