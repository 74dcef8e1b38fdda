"""Finding a submit whose answer was lost (docs/engines.md, "Submit safety").

fal has no idempotency key for queue submits. What it does offer: a failed answer may carry
`x-fal-request-id` (then we ask that request's status), and the Platform API lists an account's
requests per endpoint and time window (`GET /v1/models/requests/by-endpoint`). With
`X-Fal-Store-IO: 0` the listing carries no inputs, so a request is attributed to a job only when
it is the single request in the window that no other job of ours already owns.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from headshot.engines.fal.client import FalHttp, FalKey
from headshot.engines.protocol import Reconciliation

CLOCK_SLACK = timedelta(minutes=2)  # our clock and fal's may disagree a little
MAX_PAGES = 10

__all__ = ["Reconciliation", "unclaimed_requests"]  # Reconciliation: engine-neutral


def unclaimed_requests(
    http: FalHttp,
    api_url: str,
    *,
    key: FalKey,
    endpoint: str,
    sent_after: datetime,
    known_request_ids: Collection[str],
) -> list[str]:
    """Ids of requests to `endpoint` sent since `sent_after` (less slack) that are not ours."""
    params: dict[str, Any] = {
        "endpoint_id": endpoint,
        "start": (sent_after - CLOCK_SLACK).isoformat().replace("+00:00", "Z"),
        "limit": 100,
    }
    found: list[str] = []
    for _ in range(MAX_PAGES):
        body = http.json("GET", f"{api_url}/v1/models/requests/by-endpoint", key=key, params=params)
        items = body.get("items") if isinstance(body, dict) else None
        for item in items or ():
            request_id = item.get("request_id") if isinstance(item, dict) else None
            if isinstance(request_id, str) and request_id not in known_request_ids:
                found.append(request_id)
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if not body.get("has_more") or not cursor:
            break
        params["cursor"] = cursor
    return list(dict.fromkeys(found))
