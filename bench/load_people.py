"""N simulated people at once against a real `headshot serve` on loopback.

Run: `uv run python bench/load_people.py --people N [--photos 12] [--train]`. Each person signs
up, consents, creates a batch and uploads its photos two at a time (as the web app's queue
does), sending any request again after `Retry-After` when the server answers 503, while a light
reader per person asks for the batch's readiness and the gallery every half second. With
`--train` the photos are distinct shared photos of one person (a set that can be trained on) and
each person then trains and generates one look (the offline studio engine). Prints
JSON: errors (any answer other than 2xx and honoured 503s), busy answers, requests whose kept-alive
connection closed before an answer (sent once more, and listed), upload p50/p95, light request
p50/p95, and the server's peak RSS.

With `--worker REDIS_URL` the jobs run in a separate `headshot worker` process over that Redis
(the scale-out layout, still on the embedded SQLite database and local files), and the worker's
peak RSS is printed beside the web server's. The Redis database given is flushed first.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from api_upload import faces_dir, free_port, peak_rss_mb, phone_photos, start_server

PASSWORD = "benchmark password"


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.uploads: list[float] = []
        self.light: list[float] = []
        self.errors: list[str] = []
        self.busy = 0
        self.dropped: list[str] = []

    def add(self, kind: list[float], started: float) -> None:
        with self.lock:
            kind.append((time.perf_counter() - started) * 1000)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


class ResendOnDrop(httpx.HTTPTransport):
    """Sends a request once more when a kept-alive connection closes before any answer, as a
    browser does (the server closes connections idle for 5 s, and one can close just as a
    request goes out). Each such drop is reported, with its request, not hidden."""

    def __init__(self, tally: Tally, **options: Any) -> None:
        super().__init__(**options)
        self._tally = tally

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except httpx.RemoteProtocolError:
            with self._tally.lock:
                self._tally.dropped.append(f"{request.method} {_route(request.url.path)}")
            return super().handle_request(request)


def person(
    base: str, context: Any, number: int, photos: list[bytes], tally: Tally, train: bool
) -> None:
    transport = ResendOnDrop(tally, verify=context)
    with httpx.Client(base_url=base, transport=transport, timeout=120) as client:
        account = {"email": f"p{number}@example.com", "password": PASSWORD}
        if _admitted(client, "POST", "/api/v1/auth/register", tally, json=account) is None:
            return
        login = _admitted(client, "POST", "/api/v1/auth/login", tally, json=account)
        if login is None:
            return
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        client.cookies.clear()
        consent = {"biometric_processing": True}
        if _admitted(client, "POST", "/api/v1/me/consent", tally, json=consent) is None:
            return
        created = _admitted(client, "POST", "/api/v1/sessions", tally, json={"name": "load"})
        if created is None:
            return
        session = created.json()["id"]
        done = threading.Event()
        reader = threading.Thread(target=_read_lightly, args=(client, session, tally, done))
        reader.start()
        try:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda p: _upload(client, session, p, tally), enumerate(photos)))
            if train:
                _train_and_generate(client, session, tally)
        finally:
            done.set()
            reader.join()


def _admitted(
    client: httpx.Client,
    method: str,
    url: str,
    tally: Tally,
    timed: list[float] | None = None,
    **request: Any,
) -> httpx.Response | None:
    """The answer to a request sent again after each 503's Retry-After, as the web app does.

    With `timed`, the latency of the admitted attempt is added to it. Any other answer that is
    not 2xx is counted as an error (with its status and route) and gives None; so does a request
    the server never admits.
    """
    for _ in range(30):
        started = time.perf_counter()
        answer = client.request(method, url, **request)
        if answer.status_code == 503:
            with tally.lock:
                tally.busy += 1
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        if timed is not None:
            tally.add(timed, started)
        if not answer.is_success:
            tally.error(f"{method} {_route(url)} {answer.status_code}")
            return None
        return answer
    tally.error(f"{method} {_route(url)} never admitted")
    return None


def _route(url: str) -> str:
    """The resource a path under /api/v1/ names (`sessions`, `trainings`, ...)."""
    return url.split("/")[3]


def _upload(client: httpx.Client, session: str, item: tuple[int, bytes], tally: Tally) -> None:
    url = f"/api/v1/sessions/{session}/photos"
    files = {"files": (f"p{item[0]}.jpg", item[1], "image/jpeg")}
    _admitted(client, "POST", url, tally, timed=tally.uploads, files=files)


def _read_lightly(client: httpx.Client, session: str, tally: Tally, done: threading.Event) -> None:
    while not done.wait(0.5):
        for path in (f"/api/v1/sessions/{session}/readiness", "/api/v1/headshots"):
            started = time.perf_counter()
            answer = client.get(path)
            tally.add(tally.light, started)
            if answer.status_code != 200:
                tally.error(f"light {answer.status_code}")


def _train_and_generate(client: httpx.Client, session: str, tally: Tally) -> None:
    training = _admitted(client, "POST", f"/api/v1/sessions/{session}/trainings", tally, json={})
    if training is None:
        return
    model = _wait(client, f"/api/v1/trainings/{training.json()['id']}")
    if model is None:
        tally.error("training did not finish")
        return
    look = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}
    looks = {"model_id": model, "looks": [look]}
    generation = _admitted(client, "POST", "/api/v1/generations", tally, json=looks)
    if generation is None:
        return
    if _wait(client, f"/api/v1/generations/{generation.json()['id']}") is None:
        tally.error("generation did not finish")


def _wait(client: httpx.Client, path: str) -> str | None:
    for _ in range(600):
        body = client.get(path).json()
        if body.get("status") == "succeeded":
            return str(body["id"])
        if body.get("status") in ("failed", "cancelled"):
            return None
        time.sleep(1)
    return None


def person_photos(count: int) -> list[bytes]:
    """Distinct photos of one person (a set that can be trained on), 2048 px at most."""
    folder = faces_dir().parent / "person"
    photos = []
    for path in sorted(folder.glob("*.jpg"))[:count]:
        image = Image.open(path).convert("RGB")
        image.thumbnail((2048, 2048))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=88)
        photos.append(out.getvalue())
    return photos


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        only = round(values[0]) if values else 0
        return {"p50_ms": only, "p95_ms": only}
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50_ms": round(statistics.median(values)), "p95_ms": round(cuts[18])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--worker", metavar="REDIS_URL", help="run jobs in a separate worker")
    args = parser.parse_args()
    photos = person_photos(args.photos) if args.train else phone_photos(args.photos)
    tally = Tally()
    # Every simulated person signs in from the same loopback address at the same moment.
    os.environ.setdefault("HEADSHOT_AUTH__LOGIN_ADDRESS_ATTEMPTS", str(4 * args.people))
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        worker = None
        if args.worker:
            os.environ.update(HEADSHOT_REDIS_URL=args.worker, HEADSHOT_IN_PROCESS_WORKER="false")
            import redis

            redis.Redis.from_url(args.worker).flushdb()
        server, context = start_server(Path(folder), port)
        if args.worker:
            worker = subprocess.Popen(
                [sys.executable, "-m", "headshot", "worker"],
                env={**os.environ, "HEADSHOT_DATA_DIR": folder, "HEADSHOT_LOG_LEVEL": "WARNING"},
            )
        base = f"https://localhost:{port}"
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.people) as pool:
                for future in [
                    pool.submit(person, base, context, n, photos, tally, args.train)
                    for n in range(args.people)
                ]:
                    # A dropped connection ends that person's run; it is an error, not the end
                    # of the benchmark.
                    if (failure := future.exception()) is not None:
                        tally.error(f"{type(failure).__name__}: {failure}")
            wall = time.perf_counter() - started
            rss = peak_rss_mb(server.pid)
            worker_rss = peak_rss_mb(worker.pid) if worker is not None else None
        finally:
            for process in (server, worker):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=60)
    print(
        json.dumps(
            {
                "people": args.people,
                "photos_each": args.photos,
                "wall_s": round(wall, 1),
                "errors": len(tally.errors),
                "error_kinds": sorted(set(tally.errors)),
                "busy_503": tally.busy,
                "dropped_and_resent": sorted(tally.dropped),
                "upload": _percentiles(tally.uploads),
                "readiness_and_gallery": _percentiles(tally.light),
                "server_peak_rss_mb": round(rss),
                **({"worker_peak_rss_mb": round(worker_rss)} if worker_rss is not None else {}),
            }
        )
    )


if __name__ == "__main__":
    main()
