"""The Uvicorn runner: loopback rules, configuration, and one real HTTPS round trip."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from headshot.observability import Metrics
from headshot.server.runner import PlainHttpRefused, is_loopback, make_config
from headshot.server.tls import CertPaths, ensure_certificate
from tests.infra.apps import tiny_app
from tests.infra.conftest import wait_until


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "headshot.lan"])
def test_plain_http_is_refused_off_loopback(host: str) -> None:
    with pytest.raises(PlainHttpRefused, match="loopback"):
        make_config(tiny_app(), host=host, port=8080, cert=None, log_level="info")


def test_plain_http_on_loopback_is_allowed_without_proxy_headers_or_server_header() -> None:
    config = make_config(tiny_app(), host="127.0.0.1", port=8080, cert=None, log_level="INFO")

    assert config.ssl_certfile is None
    assert config.proxy_headers is False
    assert config.server_header is False
    assert config.access_log is False
    assert config.log_config is None


def test_https_config_uses_the_certificate(tmp_path: Path) -> None:
    cert = ensure_certificate(data_dir=tmp_path, cert_file=None, key_file=None, hostnames=[])

    config = make_config(tiny_app(), host="0.0.0.0", port=8443, cert=cert, log_level="info")

    assert config.ssl_certfile == str(cert.cert_file)
    assert config.ssl_keyfile == str(cert.key_file)
    config.load()
    assert config.ssl is not None
    assert config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, CertPaths]]:
    cert = ensure_certificate(data_dir=tmp_path, cert_file=None, key_file=None, hostnames=[])
    port = _free_port()
    app = tiny_app(Metrics())
    server = uvicorn.Server(
        make_config(app, host="127.0.0.1", port=port, cert=cert, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive())
        assert server.started, "uvicorn did not start"
        yield f"https://{{host}}:{port}", cert
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.network
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_serves_https_with_the_generated_certificate(
    https_server: tuple[str, CertPaths], host: str
) -> None:
    base, cert = https_server
    trust = ssl.create_default_context(cafile=str(cert.cert_file))

    with httpx.Client(verify=trust) as client:
        response = client.get(base.format(host=host) + "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "server" not in response.headers
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")


@pytest.mark.network
def test_clients_without_our_certificate_are_refused(https_server: tuple[str, CertPaths]) -> None:
    base, _ = https_server

    with pytest.raises(httpx.ConnectError):
        httpx.get(base.format(host="127.0.0.1") + "/healthz")  # system trust store only
