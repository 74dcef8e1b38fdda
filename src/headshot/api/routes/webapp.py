"""The web app: `/` (the shell), `/app/...` (its modules, styles and icons), the manifest and the
service worker at the root scope. Plain files, no build step: `api.assets` versions and
compresses them as they are served.

Caching: versioned URLs (`/app/v/<build>/...`) are immutable for a year; the shell, the service
worker, the manifest and plain `/app/...` URLs are revalidated on every load (ETag), so a new
version shows at once.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

from headshot.api.assets import Asset, StaticAssets
from headshot.api.negotiation import accepts_gzip

router = APIRouter(include_in_schema=False)

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def static_root() -> Path:
    return Path(str(files("headshot.webapp") / "static"))


def assets_of(request: Request) -> StaticAssets:
    assets: StaticAssets = request.app.state.assets
    return assets


def _serve(
    request: Request, relative: str, *, cache: str, extra: dict[str, str] | None = None
) -> Response:
    asset = assets_of(request).get(relative)
    if asset is None:
        raise HTTPException(status_code=404)
    return asset_response(request, asset, cache=cache, extra=extra)


def asset_response(
    request: Request, asset: Asset, *, cache: str, extra: dict[str, str] | None = None
) -> Response:
    packed = asset.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", ""))
    etag = f'"{asset.etag}{"-gz" if packed else ""}"'
    headers = {"Cache-Control": cache, "ETag": etag, "Vary": "Accept-Encoding", **(extra or {})}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if packed:
        headers["Content-Encoding"] = "gzip"
    body = asset.gzipped if packed and asset.gzipped is not None else asset.body
    return Response(body, media_type=asset.media_type, headers=headers)


@router.get("/")
def shell(request: Request) -> Response:
    return _serve(request, "index.html", cache=NO_CACHE)


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    return _serve(request, "manifest.webmanifest", cache=NO_CACHE)


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    return _serve(request, "sw.js", cache=NO_CACHE, extra={"Service-Worker-Allowed": "/"})


@router.get("/app/v/{build}/{relative:path}")
def versioned_asset(build: str, relative: str, request: Request) -> Response:
    # A page of an older version asks for its files: today's copy, but not cached for long.
    current = build == assets_of(request).build
    return _serve(request, relative, cache=IMMUTABLE if current else NO_CACHE)


@router.get("/app/{relative:path}")
def asset(relative: str, request: Request) -> Response:
    return _serve(request, relative, cache=NO_CACHE)
