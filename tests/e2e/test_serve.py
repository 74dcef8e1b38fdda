"""`headshot migrate` then `headshot serve` as real processes: HTTPS on embedded defaults."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _headshot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headshot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _trust(cert: Path) -> ssl.SSLContext:
    """Trust only the server's generated certificate."""
    return ssl.create_default_context(cafile=str(cert))


def _wait_healthy(url: str, cert: Path, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("headshot serve exited early")
        if cert.exists():
            try:
                return httpx.get(url, verify=_trust(cert), timeout=2)
            except httpx.TransportError:
                pass
        time.sleep(0.3)
    raise AssertionError("headshot serve did not answer in time")


def test_serve_on_embedded_defaults_over_https(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "HEADSHOT_DATA_DIR": str(tmp_path / "data"), "HEADSHOT_PORT": str(port)}
    assert _headshot("migrate", env=env).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "headshot", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        cert = tmp_path / "data" / "tls" / "cert.pem"
        health = _wait_healthy(f"https://localhost:{port}/healthz", cert, process)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.headers["strict-transport-security"].startswith("max-age=")
        ready = httpx.get(f"https://localhost:{port}/readyz", verify=_trust(cert), timeout=5)
        assert ready.json()["checks"] == {"database": "ok", "queue": "ok"}
        spec = httpx.get(f"https://localhost:{port}/api/v1/openapi.json", verify=_trust(cert))
        assert "/api/v1/sessions/{session_id}/photos" in spec.json()["paths"]
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode()
    assert "Application shutdown complete" in output
    for mode_path in (tmp_path / "data", tmp_path / "data" / "master.key"):
        assert mode_path.stat().st_mode & 0o077 == 0, f"{mode_path.name} is readable by others"


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "HEADSHOT_DATA_DIR": str(tmp_path)}
    result = _headshot("serve", "--http", "--host", "0.0.0.0", env=env)
    assert result.returncode == 2
    assert "loopback" in result.stdout + result.stderr
