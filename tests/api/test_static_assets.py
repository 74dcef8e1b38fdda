"""The web app's files as served: versioned URLs cached for a year, the shell and the service
worker revalidated, text compressed when the browser takes gzip."""

from __future__ import annotations

import gzip
import re

import pytest
from fastapi.testclient import TestClient

from headshot.api.assets import StaticAssets
from headshot.api.negotiation import accepts_gzip, prefers_html

IMMUTABLE = "public, max-age=31536000, immutable"


def _build(client: TestClient) -> str:
    shell = client.get("/", headers={"Accept-Encoding": "identity"})
    found = re.search(r'src="/app/v/([0-9a-f]{12})/js/main.js"', shell.text)
    assert found, shell.text
    return found.group(1)


def test_shell_references_versioned_assets_that_are_immutable(client: TestClient) -> None:
    build = _build(client)
    shell = client.get("/", headers={"Accept-Encoding": "identity"})
    assert shell.headers["cache-control"] == "no-cache"
    assert 'href="/app/app.css"' not in shell.text
    assert f'href="/app/v/{build}/app.css"' in shell.text

    module = client.get(f"/app/v/{build}/js/main.js", headers={"Accept-Encoding": "gzip"})

    assert module.status_code == 200
    assert module.headers["cache-control"] == IMMUTABLE
    assert module.headers["content-encoding"] == "gzip"
    assert module.headers["vary"] == "Accept-Encoding"
    assert "import" in module.text  # httpx decodes it; the wire carried gzip
    stale = client.get("/app/v/000000000000/js/main.js")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    plain = client.get("/app/js/main.js")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert client.get(f"/app/v/{build}/../../pyproject.toml").status_code == 404
    assert client.get(f"/app/v/{build}/nothing.js").status_code == 404


def test_service_worker_caches_this_build_and_is_revalidated(client: TestClient) -> None:
    build = _build(client)
    worker = client.get("/sw.js")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["service-worker-allowed"] == "/"
    assert f'"/app/v/{build}/js/main.js"' in worker.text
    assert re.search(rf'const VERSION = "[^"]*-{build}"', worker.text)
    manifest = client.get("/manifest.webmanifest").json()
    assert all(icon["src"].startswith(f"/app/v/{build}/") for icon in manifest["icons"])


def test_conditional_requests_and_compression_negotiation(client: TestClient) -> None:
    first = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    again = client.get(
        "/", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    identity = client.get("/", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in identity.headers
    assert identity.headers["etag"] != first.headers["etag"]


def test_versioning_and_compression_of_files() -> None:
    files = {
        "index.html": b'<link href="/app/app.css"><script src="/app/js/main.js"></script>',
        "sw.js": b'const VERSION = "shell-v1";\nconst SHELL = ["/app/app.css"];\n' * 20,
        "app.css": b"body { background: url(/app/icons/x.png); }",
    }
    assets = StaticAssets(files)
    changed = StaticAssets({**files, "app.css": b"body { color: red; }"})

    assert assets.build != changed.build
    index = assets.get("index.html")
    assert index is not None
    assert (
        index.body
        == (
            f'<link href="/app/v/{assets.build}/app.css">'
            f'<script src="/app/v/{assets.build}/js/main.js"></script>'
        ).encode()
    )
    worker = assets.get("sw.js")
    assert worker is not None and worker.gzipped is not None
    assert gzip.decompress(worker.gzipped) == worker.body
    assert worker.body.startswith(f'const VERSION = "shell-v1-{assets.build}";'.encode())
    css = assets.get("app.css")
    assert css is not None and f"url(/app/v/{assets.build}/icons/x.png)".encode() in css.body


@pytest.mark.parametrize(
    ("header", "takes"),
    [("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0", False), ("*", True), ("", False)],
)
def test_accept_encoding(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


@pytest.mark.parametrize(
    ("header", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        ("application/json;q=0.5, text/html", True),
    ],
)
def test_browsers_get_pages_and_clients_json(header: str, html: bool) -> None:
    assert prefers_html(header) is html
