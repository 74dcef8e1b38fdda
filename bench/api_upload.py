"""End to end through HTTP: 20 photos uploaded to a real `headshot serve`, then the set report.

Run: `uv run python bench/api_upload.py [--rounds N] [--concurrency C]`. Starts the server on
loopback (HTTPS, its own throwaway data directory), signs up, and per round creates a session,
uploads 20 phone-sized photos (long side 2048 px, as the web app sends them after its client-side
downscale) one per request like the app does, and fetches the readiness report. Prints the
per-photo request latency percentiles, the time from the first byte sent to the set report, and
the server's peak RSS.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image, ImageEnhance

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark password"


def faces_dir() -> Path:
    root = Path(os.environ.get("HEADSHOT_TESTDATA", REPO.parent / "shared" / "testdata"))
    return root / "faces" if (root / "faces").is_dir() else root


def phone_photos(count: int) -> list[bytes]:
    """Distinct 2048 px JPEGs: the good portraits, shifted, zoomed and relit."""
    sources = [
        "pd_obama_portrait_2012.jpg",
        "pd_obama_blueroom_2010.jpg",
        "pd_obama_congress_2009.jpg",
    ]
    photos = []
    for index in range(count):
        image = Image.open(faces_dir() / sources[index % len(sources)]).convert("RGB")
        width, height = image.size
        inset = 0.02 * (index % 5)
        box = (int(width * inset), int(height * inset), int(width * (1 - inset / 2)), height)
        image = image.crop(box).resize((2048, int(2048 * (box[3] - box[1]) / (box[2] - box[0]))))
        image = ImageEnhance.Brightness(image).enhance(0.9 + 0.04 * (index % 5))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=88)
        photos.append(out.getvalue())
    return photos


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], ssl.SSLContext]:
    env = {
        **os.environ,
        "HEADSHOT_DATA_DIR": str(data_dir),
        "HEADSHOT_PORT": str(port),
        "HEADSHOT_LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "headshot", "migrate"], env=env, check=True, capture_output=True
    )
    server = subprocess.Popen([sys.executable, "-m", "headshot", "serve"], env=env)
    cert = data_dir / "tls" / "cert.pem"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if cert.exists():
            context = ssl.create_default_context(cafile=str(cert))
            try:
                httpx.get(f"https://localhost:{port}/healthz", verify=context, timeout=2)
                return server, context
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sign_up(client: httpx.Client) -> None:
    client.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
    token = client.post(
        "/api/v1/auth/login", json={"email": "bench@example.com", "password": PASSWORD}
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    client.cookies.clear()
    client.post("/api/v1/me/consent", json={"biometric_processing": True})


def one_round(
    client: httpx.Client, photos: list[bytes], concurrency: int
) -> tuple[list[float], float]:
    session = client.post("/api/v1/sessions", json={"name": "bench"}).json()["id"]
    url = f"/api/v1/sessions/{session}/photos"

    def send(item: tuple[int, bytes]) -> float:
        started = time.perf_counter()
        response = client.post(url, files={"files": (f"p{item[0]}.jpg", item[1], "image/jpeg")})
        response.raise_for_status()
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(send, enumerate(photos)))
    client.get(f"/api/v1/sessions/{session}/readiness").raise_for_status()
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--photos", type=int, default=20)
    args = parser.parse_args()
    photos = phone_photos(args.photos)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        server, context = start_server(Path(folder), port)
        try:
            with httpx.Client(
                base_url=f"https://localhost:{port}", verify=context, timeout=60
            ) as client:
                sign_up(client)
                one_round(client, photos[:2], 1)  # warm the models, as a running server is
                latencies: list[float] = []
                totals: list[float] = []
                for _ in range(args.rounds):
                    round_latencies, total = one_round(client, photos, args.concurrency)
                    latencies += round_latencies
                    totals.append(total)
            rss = peak_rss_mb(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    cuts = statistics.quantiles(latencies, n=20, method="inclusive")
    print(
        f"photos per round: {args.photos}, rounds: {args.rounds}, concurrency: {args.concurrency}"
    )
    print(f"per-photo request  p50 {statistics.median(latencies):7.0f} ms   p95 {cuts[18]:7.0f} ms")
    print(
        f"20 photos to set report  median {statistics.median(totals):5.2f} s   "
        f"worst {max(totals):5.2f} s   (target <= 3 s)"
    )
    print(f"server peak RSS {rss:6.0f} MB (target <= 600 MB)")


if __name__ == "__main__":
    main()
