"""Page weight of the web app on a phone: the first load (sign-in screen, empty cache) and the
gallery of 12 headshots, as bytes over the wire (what Chromium's network stack counts, after
compression) and as decoded bytes, per kind of file.

Run: `uv run python bench/page_weight.py`. Starts `headshot serve` on loopback with the offline
studio engine and a throwaway data directory, makes 12 headshots through the public API (sign up,
consent, three photos, a training, one generation of 12 looks), then opens the app in Debian's
Chromium (phone emulation, 390 x 844) and records every response through the DevTools protocol.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "testdata" / "faces"
PHOTOS = ("pd_obama_portrait_2012.jpg", "pd_obama_blueroom_2010.jpg", "pd_obama_congress_2009.jpg")
EMAIL = "weight@example.com"
PASSWORD = "benchmark password"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "HEADSHOT_DATA_DIR": str(data),
        "HEADSHOT_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "HEADSHOT_VALIDATION__MIN_PHOTOS": "3",
        "HEADSHOT_ENGINE": "studio",
    }
    headshot = [sys.executable, "-m", "headshot"]
    subprocess.run([*headshot, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*headshot, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def wait_for(client: httpx.Client, path: str, done: set[str]) -> dict[str, Any]:
    for _ in range(600):
        body: dict[str, Any] = client.get(path).json()
        if body["status"] in done:
            return body
        time.sleep(0.5)
    raise SystemExit(f"{path} did not finish")


def make_headshots(url: str, count: int) -> None:
    with httpx.Client(base_url=f"{url}/api/v1", timeout=60) as client:
        credentials = {"email": EMAIL, "password": PASSWORD}
        client.post("/auth/register", json=credentials).raise_for_status()
        login = client.post("/auth/login", json=credentials)
        login.raise_for_status()
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        client.post("/me/consent", json={"biometric_processing": True}).raise_for_status()
        session = client.post("/sessions", json={"name": "Page weight"}).json()["id"]
        for name in PHOTOS:
            files = {"files": (name, (FACES / name).read_bytes(), "image/jpeg")}
            client.post(f"/sessions/{session}/photos", files=files).raise_for_status()
        training = client.post(f"/sessions/{session}/trainings", json={}).json()["id"]
        wait_for(client, f"/trainings/{training}", {"succeeded"})
        styles = client.get("/styles").json()
        looks = [
            {"background": b["id"], "attire": "as-is", "lighting": light["id"]}
            for b in styles["backgrounds"][:4]
            for light in styles["lighting"][:3]
        ][:count]
        body = {"model_id": training, "looks": looks, "images_per_look": 1}
        generation = client.post("/generations", json=body).json()["id"]
        made = wait_for(client, f"/generations/{generation}", {"succeeded", "partial", "failed"})
        assert len(made["headshot_ids"]) == count, made


class Recorder:
    """Every finished response: URL, bytes over the wire and decoded bytes."""

    def __init__(self, page: Any) -> None:
        self.urls: dict[str, str] = {}
        self.rows: list[tuple[str, int, int]] = []
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        self.decoded: dict[str, int] = defaultdict(int)

    def _response(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["response"]["url"]

    def _data(self, event: dict[str, Any]) -> None:
        self.decoded[event["requestId"]] += event["dataLength"]

    def _finished(self, event: dict[str, Any]) -> None:
        request = event["requestId"]
        if request in self.urls:
            wire = int(event["encodedDataLength"])
            self.rows.append((self.urls[request], wire, self.decoded.get(request, 0)))

    def take(self) -> list[tuple[str, int, int]]:
        rows, self.rows = self.rows, []
        return rows


def kind(url: str) -> str:
    path = url.split("?")[0]
    if "/api/v1/headshots/" in path and path.endswith("/image"):
        return "headshot images"
    if "/api/" in path:
        return "API (JSON)"
    for suffix, name in ((".js", "scripts"), (".css", "styles"), (".png", "icons")):
        if path.endswith(suffix):
            return name
    return "document, manifest"


def report(title: str, rows: list[tuple[str, int, int]]) -> None:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for url, wire, decoded in rows:
        entry = totals[kind(url)]
        entry[0] += 1
        entry[1] += wire
        entry[2] += decoded
    print(f"\n{title}")
    print(f"{'kind':<20} {'requests':>8} {'over the wire':>14} {'decoded':>10}")
    for name, (count, wire, decoded) in sorted(totals.items()):
        print(f"{name:<20} {count:>8} {wire / 1024:>11.1f} KiB {decoded / 1024:>6.1f} KiB")
    wire_total = sum(r[1] for r in rows)
    decoded_total = sum(r[2] for r in rows)
    wire_kib, decoded_kib = wire_total / 1024, decoded_total / 1024
    print(f"{'total':<20} {len(rows):>8} {wire_kib:>11.1f} KiB {decoded_kib:>6.1f} KiB")


def measure(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        page = browser.new_context(**PHONE).new_page()
        recorder = Recorder(page)
        page.goto(url, wait_until="networkidle")
        page.get_by_label("Email").wait_for()
        page.wait_for_timeout(1500)  # the service worker's install fetches count too
        report("First load (sign-in screen, empty cache)", recorder.take())

        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Your batches").wait_for()
        page.wait_for_load_state("networkidle")
        recorder.take()
        page.get_by_role("link", name="Gallery").click()
        page.get_by_role("article").nth(11).wait_for()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(500)
        page.wait_for_function("[...document.images].every(i => i.complete)")
        page.wait_for_load_state("networkidle")
        report("Gallery of 12 headshots (signed in, scrolled to the end)", recorder.take())

        page.reload(wait_until="networkidle")
        page.get_by_role("article").nth(11).wait_for()
        page.wait_for_load_state("networkidle")
        report("The gallery again (reload: cached app files)", recorder.take())
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = serve(Path(tmp))
        try:
            started = time.monotonic()
            make_headshots(url, 12)
            print(f"12 headshots made in {time.monotonic() - started:.0f} s")
            measure(url)
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
