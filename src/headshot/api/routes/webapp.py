"""The web app: `/` (the shell), `/app/...` (its modules, styles and icons), the manifest and the
service worker at the root scope. Plain files, no build step."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

STATIC = Path(str(files("headshot.webapp") / "static"))
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".html": "text/html",
    ".webmanifest": "application/manifest+json",
}
# The shell and worker are revalidated on every load so a new version shows at once.
NO_CACHE = {"Cache-Control": "no-cache"}


def _file(relative: str, *, headers: dict[str, str] | None = None) -> FileResponse:
    path = (STATIC / relative).resolve()
    if not path.is_file() or STATIC.resolve() not in path.parents or path.suffix not in TYPES:
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type=TYPES[path.suffix], headers=headers or NO_CACHE)


@router.get("/")
def shell() -> FileResponse:
    return _file("index.html")


@router.get("/manifest.webmanifest")
def manifest() -> FileResponse:
    return _file("manifest.webmanifest")


@router.get("/sw.js")
def service_worker() -> FileResponse:
    return _file("sw.js", headers={**NO_CACHE, "Service-Worker-Allowed": "/"})


@router.get("/app/{relative:path}")
def asset(relative: str) -> FileResponse:
    return _file(relative)
