"""Public share pages (`/s/{token}`): that one headshot and nothing else, no login."""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, StreamingResponse

from headshot.api.deps import ServicesDep

router = APIRouter(tags=["public"])

# Styles come from a file of ours: the CSP allows no inline style.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>A shared headshot</title>
<link rel="stylesheet" href="/app/share.css">
</head>
<body><main><img src="{image}" alt="A professional headshot" width="1024" height="1280">
<p>Shared with Headshot. This link expires {expires}.</p></main></body></html>"""


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
def share_page(token: str, services: ServicesDep) -> HTMLResponse:
    _, expires_at = services.gallery.share_info(token)
    expires = f"on {expires_at:%d %B %Y at %H:%M} UTC"
    body = PAGE.format(image=html.escape(f"/s/{token}/image"), expires=html.escape(expires))
    return HTMLResponse(
        body, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


@router.get("/s/{token}/image", include_in_schema=False)
def share_image(token: str, services: ServicesDep) -> StreamingResponse:
    stream = services.gallery.shared_image(token)
    return StreamingResponse(
        stream.chunks, media_type=stream.media_type, headers={"Cache-Control": "no-store"}
    )
