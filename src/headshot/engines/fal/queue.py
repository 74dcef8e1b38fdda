"""fal's queue protocol: submit, status with logs, result, cancel. Requests are
followed through the URLs the submit answer returned, never URLs we build, except when that
answer was lost (`request_urls`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from headshot.engines.fal import results
from headshot.engines.fal.client import FalHttp, FalKey, FalSubmitOutcomeUnknownError
from headshot.engines.protocol import JobStatus

log = logging.getLogger(__name__)

URL_FIELDS = ("request_id", "status_url", "response_url", "cancel_url")
_GONE = frozenset({400, 404})  # cancel: ALREADY_COMPLETED / NOT_FOUND are outcomes, not errors


class FalQueue:
    def __init__(self, http: FalHttp, *, queue_url: str) -> None:
        self._http = http
        self._queue_url = queue_url.rstrip("/")

    def submit(
        self,
        endpoint: str,
        arguments: Mapping[str, Any],
        *,
        key: FalKey,
        headers: Mapping[str, str],
        webhook_url: str | None,
    ) -> dict[str, str]:
        """Exactly one POST; the answer's request id and URLs plus `endpoint`."""
        response = self._http.request(
            "POST",
            f"{self._queue_url}/{endpoint}",
            key=key,
            submit=True,
            json=arguments,
            params={"fal_webhook": webhook_url} if webhook_url else {},
            headers=dict(headers),
        )
        try:
            body = response.json()
            data = {name: str(body[name]) for name in URL_FIELDS}
        except (ValueError, KeyError, TypeError) as exc:
            # Accepted (2xx) but unreadable: the request exists and we do not know its id.
            raise FalSubmitOutcomeUnknownError(
                f"fal accepted a submit to {endpoint} with an unreadable answer",
                request_id=response.headers.get("x-fal-request-id"),
            ) from exc
        log.info("fal request %s submitted to %s", data["request_id"], endpoint)
        return {**data, "endpoint": endpoint}

    def status(self, data: Mapping[str, Any], *, key: FalKey) -> JobStatus:
        body = self._http.json("GET", data["status_url"], key=key, params={"logs": "1"})
        return results.job_status(body)

    def exists(self, data: Mapping[str, Any], *, key: FalKey) -> bool:
        response = self._http.request(
            "GET", data["status_url"], key=key, ok_statuses=frozenset({404})
        )
        return response.status_code != 404

    def result(self, data: Mapping[str, Any], *, key: FalKey) -> Any:
        return self._http.json("GET", data["response_url"], key=key)

    def cancel(self, data: Mapping[str, Any], *, key: FalKey) -> None:
        response = self._http.request("PUT", data["cancel_url"], key=key, ok_statuses=_GONE)
        if response.status_code in _GONE:
            log.info("fal request %s: cancel answered %s", data["request_id"], response.status_code)

    def request_urls(self, endpoint: str, request_id: str) -> dict[str, str]:
        """The URLs fal-client's `from_request_id` builds; for requests known only by id."""
        base = f"{self._queue_url}/{endpoint}/requests/{request_id}"
        return {
            "request_id": request_id,
            "status_url": f"{base}/status",
            "response_url": base,
            "cancel_url": f"{base}/cancel",
            "endpoint": endpoint,
        }
