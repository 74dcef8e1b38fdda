"""Queue routes (FAL.md §1): submit, status, result, cancel."""

from __future__ import annotations

import re
from typing import Any

from tests.fal_double import schemas
from tests.fal_double.core import DoubleCore
from tests.fal_double.state import GENERATOR, TRAINER, FakeRequest
from tests.fal_double.wire import Incoming, Reply

FAILED_TRAINING = "Training failed: could not find a face in 3 of the images"


def submit(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    endpoint = f"fal-ai/{match['app']}"
    if endpoint not in (TRAINER, GENERATOR):
        return Reply.of(404, {"detail": f"Application '{match['app']}' not found"})
    if refusal := core.auth(inc, billable=True):
        return refusal
    try:
        body = inc.json()
    except ValueError:
        return Reply.of(422, {"detail": [{"loc": ["body"], "msg": "bad JSON", "type": "json"}]})
    parsed, errors = schemas.validate(endpoint, body)
    if errors:
        return Reply.of(422, {"detail": errors})
    with core.lock:
        request = _create(core, inc, endpoint, body, parsed)
    data = _urls(core, request)
    answer: dict[str, Any] = {**data, "status": "IN_QUEUE", "queue_position": _position(core)}
    if request.webhook_url:
        answer["gateway_request_id"] = request.request_id
    return Reply.of(200, answer, **{"x-fal-request-id": request.request_id})


def _create(
    core: DoubleCore, inc: Incoming, endpoint: str, body: dict[str, Any], parsed: Any
) -> FakeRequest:
    data = dict(body)
    if isinstance(parsed, schemas.FluxLoraInput):
        data["_width"], data["_height"] = parsed.size()
    seed = body.get("seed")
    request = FakeRequest(
        request_id=core.new_id(),
        endpoint=endpoint,
        input=data,
        created_at=core.clock.now(),
        store_io=inc.headers.get("x-fal-store-io") != "0",
        webhook_url=inc.query.get("fal_webhook"),
        seed=seed if isinstance(seed, int) else core.rng.randrange(2**31),
        headers=dict(inc.headers),
    )
    if inc.fault is not None and inc.fault.kind == "fail_request":
        request.failure = FAILED_TRAINING
    if endpoint == TRAINER:
        core.inspect_archive(request)
    core.requests[request.request_id] = request
    core.billable[endpoint] += 1
    return request


def _position(core: DoubleCore) -> int:
    return core.pace.queue_ticks - 1


def _urls(core: DoubleCore, request: FakeRequest) -> dict[str, str]:
    # The `/response` form (FAL.md §1.2): clients must use these URLs, not rebuild them.
    base = core.url(f"/q/{request.endpoint}/requests/{request.request_id}")
    return {
        "request_id": request.request_id,
        "response_url": f"{base}/response",
        "status_url": f"{base}/status",
        "cancel_url": f"{base}/cancel",
    }


def _lookup(core: DoubleCore, match: re.Match[str]) -> FakeRequest | None:
    request = core.requests.get(match["id"])
    if request is None or request.endpoint != f"fal-ai/{match['app']}":
        return None
    return request


def status(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc):
        return refusal
    with core.lock:
        request = _lookup(core, match)
        if request is None:
            return Reply.of(404, {"detail": "Request not found"})
        core.advance(request, core.pace.advance_per_poll)
        body = request.status_body(
            core.pace,
            with_logs=inc.query.get("logs", "").lower() in ("1", "true"),
            response_url=_urls(core, request)["response_url"],
        )
    return Reply.of(200 if body["status"] == "COMPLETED" else 202, body)


def result(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc):
        return refusal
    with core.lock:
        request = _lookup(core, match)
        if request is None:
            return Reply.of(404, {"detail": "Request not found"})
        if request.phase(core.pace) != "COMPLETED":
            return Reply.of(400, {"detail": "Request is still in progress"})
        if request.error is not None:
            return Reply.of(422, {"detail": request.error_detail()})
        return Reply.of(200, request.output(), **{"x-fal-request-id": request.request_id})


def cancel(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc):
        return refusal
    with core.lock:
        request = _lookup(core, match)
        if request is None:
            return Reply.of(404, {"status": "NOT_FOUND"})
        phase = request.phase(core.pace)
        if phase == "COMPLETED":
            return Reply.of(400, {"status": "ALREADY_COMPLETED"})
        if phase == "IN_QUEUE":
            request.cancelled = True
            core.finish(request)
        else:
            request.cancel_requested = True  # the runner may still finish; next tick decides
    return Reply.of(202, {"status": "CANCELLATION_REQUESTED"})
