"""`POST /fal/webhook`: fal's completion notices, authenticated by fal's signature, not a login."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from headshot.api.deps import ServicesDep
from headshot.api.errors import error_response
from headshot.engines.fal.webhooks import WebhookKeysUnavailableError, WebhookRejectedError

router = APIRouter(tags=["webhooks"])
MAX_BODY = 1024 * 1024


@router.post("/fal/webhook", include_in_schema=False)
async def fal_webhook(request: Request, services: ServicesDep) -> Response:
    if services.fal_webhooks is None:
        return error_response(404, "not_found", "Nothing here.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return error_response(413, "too_large", "The notice is too large.")
    try:
        await run_in_threadpool(
            services.fal_webhooks.receive,
            dict(request.headers),
            bytes(body),
            query=dict(request.query_params),
        )
    except WebhookRejectedError:
        return error_response(401, "invalid_signature", "The notice is not signed by fal.")
    except WebhookKeysUnavailableError:
        # fal retries for about two hours: a passing outage of its key endpoint loses nothing.
        return error_response(503, "keys_unavailable", "Please retry later.")
    return Response(status_code=200)
