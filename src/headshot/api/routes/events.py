"""`GET /events`: server-sent progress events for the caller."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.domain.models import Principal
from headshot.services.events import Events

router = APIRouter(tags=["events"])
POLL_S = 1.0
HEARTBEAT_S = 15.0
MAX_STREAM_S = 3600.0  # clients reconnect (EventSource does so by itself)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request, principal: CurrentUser, services: ServicesDep
) -> StreamingResponse:
    """Progress of validation, trainings and generations as they change."""
    source = Events(db=services.db, clock=services.clock)
    return StreamingResponse(
        _stream(request, source, principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, source: Events, principal: Principal) -> AsyncIterator[str]:
    seen: dict[str, tuple[Any, ...]] = {}
    since = source.now()
    loop = asyncio.get_running_loop()
    started = last_sent = loop.time()
    yield "retry: 3000\n\n"
    while loop.time() - started < MAX_STREAM_S and not await request.is_disconnected():
        polled_at = source.now()
        changes = await run_in_threadpool(source.changes, principal, seen=seen, since=since)
        since = polled_at
        for event in changes:
            payload = json.dumps({"id": event.id, **event.data}, default=str)
            yield f"event: {event.kind}\nid: {event.id}\ndata: {payload}\n\n"
            last_sent = loop.time()
        if loop.time() - last_sent > HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_sent = loop.time()
        await asyncio.sleep(POLL_S)
