"""Storage routes (FAL.md §3.1), file downloads, the JWKS, and the Platform API routes the
engine uses (payload deletion §7.2, request listing for reconciliation)."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fal_double.core import DoubleCore
from tests.fal_double.wire import Incoming, Reply, UploadRecord


def token(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc):
        return refusal
    value = core.new_id()
    with core.lock:
        core.cdn_tokens.add(value)
    expires = core.clock.datetime() + timedelta(hours=1)
    return Reply.of(
        200,
        {
            "token": value,
            "token_type": "Bearer",
            "base_url": core.url("/cdn"),
            "expires_at": expires.isoformat(),
        },
    )


def cdn_upload(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    scheme, _, value = inc.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or value not in core.cdn_tokens:
        return Reply.of(401, {"detail": "Invalid CDN token"})
    name = inc.headers.get("x-fal-file-name", "upload.bin")
    content_type = inc.headers.get("content-type", "application/octet-stream")
    url = core.store_file(f"/cdn/files/up/{core.new_id()}/{name}", inc.body, content_type)
    _record(core, "v3", inc, name=name, content_type=content_type, url=url)
    return Reply.of(200, {"access_url": url})


def initiate(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc, billable=True):
        return refusal
    body = inc.json()
    upload_id = core.new_id()
    name = str(body.get("file_name") or "upload.bin")
    with core.lock:
        core.pending_puts[upload_id] = (name, str(body.get("content_type")), _lifecycle(inc))
    return Reply.of(
        200,
        {
            "upload_url": core.url(f"/cdn/gcs/{upload_id}?X-Goog-Signature=double"),
            "file_url": core.url(f"/cdn/files/gcs/{upload_id}/{name}"),
        },
    )


def signed_put(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    with core.lock:
        pending = core.pending_puts.pop(match["id"], None)
    if pending is None or inc.query.get("X-Goog-Signature") != "double":
        return Reply.of(403, {"detail": "SignatureDoesNotMatch"})
    name, content_type, lifecycle = pending
    url = core.store_file(f"/cdn/files/gcs/{match['id']}/{name}", inc.body, content_type)
    with core.lock:
        core.uploads.append(
            UploadRecord("initiate", name, content_type, len(inc.body), lifecycle, url)
        )
    return Reply(200)


def _lifecycle(inc: Incoming) -> Any:
    raw = inc.headers.get("x-fal-object-lifecycle-preference")
    return json.loads(raw) if raw else None


def _record(
    core: DoubleCore, flow: str, inc: Incoming, *, name: str, content_type: str, url: str
) -> None:
    record = UploadRecord(flow, name, content_type, len(inc.body), _lifecycle(inc), url)
    with core.lock:
        core.uploads.append(record)


def download(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    with core.lock:
        entry = core.files.get(inc.path)
    if entry is None:
        return Reply(404, b"not found", {"Content-Type": "text/plain"})
    content, content_type = entry
    return Reply(200, content, {"Content-Type": content_type})


def jwks(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    return Reply.of(200, {"keys": [core.signer.jwk()]})


def delete_payloads(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc, admin=True):
        return refusal
    with core.lock:
        request = core.requests.get(match["id"])
        if request is None:
            return Reply.of(404, {"detail": "Request not found"})
        results = []
        for url in request.files.values():
            core.files.pop(url.removeprefix(core.base_url), None)
            results.append({"link": url, "exception": None})
        request.files.clear()
        request.store_io = False
    return Reply.of(200, {"cdn_delete_results": results})


def list_requests(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc):
        return refusal
    endpoint = inc.query.get("endpoint_id")
    if not endpoint:
        return Reply.of(422, {"detail": [{"loc": ["query", "endpoint_id"], "type": "missing"}]})
    start = _instant(inc.query.get("start")) or core.clock.now() - 86400
    limit = min(int(inc.query.get("limit", "50")), 100)
    page = int(base64.b64decode(inc.query.get("cursor", "MA==")))
    with core.lock:
        items = [
            _item(request, expand=inc.query.get("expand") == "payloads")
            for request in core.requests.values()
            if request.endpoint == endpoint and request.created_at >= start
        ]
    chunk = items[page * limit : (page + 1) * limit]
    more = (page + 1) * limit < len(items)
    cursor = base64.b64encode(str(page + 1).encode()).decode() if more else None
    return Reply.of(200, {"items": chunk, "next_cursor": cursor, "has_more": more})


def _instant(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _item(request: Any, *, expand: bool) -> dict[str, Any]:
    item = {
        "request_id": request.request_id,
        "endpoint_id": request.endpoint,
        "sent_at": datetime.fromtimestamp(request.created_at, UTC).isoformat(),
        "status_code": None,
    }
    if expand and request.store_io:
        item["json_input"] = {k: v for k, v in request.input.items() if not k.startswith("_")}
    return item
