"""The web app in a real browser: Debian's Chromium driven by Playwright in phone emulation,
against a real `headshot serve` on loopback (plain HTTP on loopback, a secure context, so the
service worker runs)."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Debian's chromium is not installed (make browser-deps): browser tests cannot run"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(f"!!! SKIPPED: {reason} !!!")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: BinaryIO) -> None:
        self.url = url
        self.process = process
        self.log = log


def start_server(data_dir: Path, **env: str) -> Server:
    port = _free_port()
    values = {
        **os.environ,
        "HEADSHOT_DATA_DIR": str(data_dir),
        "HEADSHOT_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "HEADSHOT_VALIDATION__MIN_PHOTOS": "3",
        "HEADSHOT_LOG_JSON": "true",
        **env,
    }
    subprocess.run(
        [sys.executable, "-m", "headshot", "migrate"], env=values, check=True, capture_output=True
    )
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "headshot",
            "serve",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=values,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    log.close()
    raise AssertionError((data_dir / "server.log").read_text()[-3000:])


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_chromium()
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # validation and the studio take seconds, not ms
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Callable[[], Any]]:
    """New phone contexts (each a fresh, signed-out browser profile)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(**PHONE)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    """Screenshots for the README, written when WRITE_SCREENSHOTS=1."""
    if os.environ.get("WRITE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAP_TARGETS = Path(__file__).resolve().parent / "tap_targets.js"


def _require_axe() -> None:
    if AXE.exists():
        return
    reason = "axe-core is not installed (make browser-deps): accessibility checks cannot run"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(f"!!! SKIPPED: {reason} !!!")


def serious_violations(page: Any) -> list[str]:
    """axe-core's critical and serious findings on what the page shows now."""
    _require_axe()
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's CSP (no inline scripts)
        # does not govern; a script tag would be refused, as it should be.
        page.evaluate(AXE.read_text() + "\n;0")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def check_screen(page: Any, name: str) -> None:
    """Each screen of the journey: no serious accessibility violation, no tap target under
    44 x 44 px, and nothing wider than the phone."""
    assert serious_violations(page) == [], name
    assert page.evaluate(TAP_TARGETS.read_text()) == [], name
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: horizontal overflow {width}"
