"""Public share pages (`/s/{token}`): that one headshot and nothing else, no login."""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, StreamingResponse

from headshot.api.deps import ServicesDep

router = APIRouter(tags=["public"])

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Headshot</title>
<style>
body{{margin:0;min-height:100vh;display:grid;place-items:center;background:#111418;
font:16px/1.4 system-ui,sans-serif;color:#e8eaed}}
main{{max-width:min(92vw,560px);text-align:center}}
img{{width:100%;height:auto;border-radius:12px;box-shadow:0 12px 40px #0008}}
p{{color:#b9bec6}}
</style></head>
<body><main><img src="{image}" alt="A professional headshot">
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
