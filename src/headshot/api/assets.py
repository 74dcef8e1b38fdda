"""The web app's static files as served: versioned, compressed, cacheable.

Every file is read once when the app is built. The build id is a hash of all of them, and every
reference to `/app/...` in the served text files becomes `/app/v/<build>/...`: the files keep
plain paths (no build step), relative module imports inherit the version, and a versioned URL
can be cached for a year because a change of any file changes the build id. The service worker's
cache name gets the build id too, so an update replaces the old cache instead of growing it.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
}
TEXT = frozenset({".js", ".css", ".html", ".webmanifest", ".json", ".svg"})
_APP_REFERENCE = re.compile(r"""(?<=["'(`])/app/(?!v/)""")
_SW_CACHE_NAME = re.compile(r"""(const VERSION = ["'])([^"']*)(["'])""")
_MIN_COMPRESS = 256  # smaller files gain nothing worth a header


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


class StaticAssets:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.build = _build_id(files)
        self.prefix = f"/app/v/{self.build}/"
        self._assets = {path: self._asset(path, data) for path, data in files.items()}

    @classmethod
    def load(cls, root: Path) -> StaticAssets:
        files = {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.suffix in TYPES
        }
        return cls(files)

    def get(self, relative: str) -> Asset | None:
        return self._assets.get(relative)

    def url(self, relative: str) -> str:
        """The versioned URL of a file (for pages rendered on the server)."""
        return self.prefix + relative.lstrip("/")

    def _asset(self, path: str, data: bytes) -> Asset:
        suffix = Path(path).suffix
        if suffix in TEXT:
            text = _APP_REFERENCE.sub(self.prefix, data.decode("utf-8"))
            if path == "sw.js":
                text = _SW_CACHE_NAME.sub(rf"\g<1>\g<2>-{self.build}\g<3>", text, count=1)
            data = text.encode("utf-8")
        packed = gzip.compress(data, compresslevel=9, mtime=0) if suffix in TEXT else None
        if packed is not None and (len(data) < _MIN_COMPRESS or len(packed) >= len(data)):
            packed = None
        etag = hashlib.sha256(data).hexdigest()[:20]
        return Asset(body=data, gzipped=packed, media_type=TYPES[suffix], etag=etag)


def _build_id(files: dict[str, bytes]) -> str:
    hasher = hashlib.sha256()
    for path in sorted(files):
        hasher.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return hasher.hexdigest()[:12]
