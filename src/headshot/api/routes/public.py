"""Public share pages (`/s/{token}`): that one headshot and nothing else, no login.

The page carries Open Graph and Twitter card tags, so a link pasted into a chat or a social
network shows the headshot. An expired or revoked link answers a page that says so (JSON for a
client that asks for it).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from headshot.api.deps import ServicesDep
from headshot.api.errors import error_response
from headshot.api.negotiation import prefers_html
from headshot.api.pages import gone_page, share_page
from headshot.api.routes.webapp import assets_of
from headshot.domain.errors import NotFoundError

router = APIRouter(tags=["public"])
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
GONE_TITLE = "This link no longer works"
GONE_MESSAGE = "It has expired or the person who shared it took it back. Ask them for a new one."


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
def share_view(token: str, request: Request, services: ServicesDep) -> Response:
    try:
        _, expires_at = services.gallery.share_info(token)
    except NotFoundError as exc:
        return _gone(request, exc)
    base = (services.settings.public_url or str(request.base_url)).rstrip("/")
    body = share_page(
        page_url=f"{base}/s/{token}",
        image_url=f"{base}/s/{token}/image",
        expires=f"on {expires_at:%d %B %Y at %H:%M} UTC",
        stylesheet=assets_of(request).url("share.css"),
    )
    return HTMLResponse(body, headers=PRIVATE)


@router.get("/s/{token}/image", include_in_schema=False)
def share_image(token: str, request: Request, services: ServicesDep) -> Response:
    try:
        stream = services.gallery.shared_image(token)
    except NotFoundError as exc:
        return _gone(request, exc)
    return StreamingResponse(stream.chunks, media_type=stream.media_type, headers=PRIVATE)


def _gone(request: Request, exc: NotFoundError) -> Response:
    if prefers_html(request.headers.get("accept", "")):
        stylesheet = assets_of(request).url("share.css")
        body = gone_page(title=GONE_TITLE, message=GONE_MESSAGE, stylesheet=stylesheet)
        return HTMLResponse(body, status_code=404, headers=PRIVATE)
    return error_response(404, exc.code, exc.message)
