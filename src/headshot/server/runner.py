"""Uvicorn, run programmatically: HTTPS with our certificate, no proxy headers unless asked,
no Server header, no uvicorn access log (ours comes from `HttpMetricsMiddleware`), and no
logging configuration of its own (ours is installed by `configure_logging`).

Plain HTTP is refused unless the address is loopback: a LAN address would carry passwords and
selfies in clear text.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from headshot.server.tls import CertPaths

MODERN_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"  # TLS 1.2 suites; TLS 1.3 ones are fixed


class PlainHttpRefused(ValueError):
    """Plain HTTP was asked for on an address other processes or machines can reach."""


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (`127.0.0.0/8`, `::1`, v4-mapped)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _modern_tls(
    config: uvicorn.Config, default_factory: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    del config  # the signature uvicorn calls us with
    context = default_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def make_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    cert: CertPaths | None,
    log_level: str,
    proxy_headers: bool = False,
    forwarded_allow_ips: str | None = None,
    graceful_shutdown_s: int = 10,
) -> uvicorn.Config:
    """The Uvicorn configuration `serve` uses (raises `PlainHttpRefused`)."""
    if cert is None and not is_loopback(host):
        raise PlainHttpRefused(
            f"refusing plain HTTP on {host}: it is not a loopback address. Serve HTTPS "
            "(the default, with a self-signed certificate unless HEADSHOT_TLS_CERT_FILE is set) "
            "or bind 127.0.0.1 behind a TLS proxy."
        )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level=log_level.lower(),
        access_log=False,
        server_header=False,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        # Open SSE streams would otherwise hold a shutdown forever.
        timeout_graceful_shutdown=graceful_shutdown_s,
        ssl_certfile=str(cert.cert_file) if cert else None,
        ssl_keyfile=str(cert.key_file) if cert else None,
        ssl_ciphers=MODERN_CIPHERS if cert else None,
        ssl_context_factory=_modern_tls if cert else None,
    )


def serve(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    cert: CertPaths | None,
    log_level: str,
    proxy_headers: bool = False,
    forwarded_allow_ips: str | None = None,
    graceful_shutdown_s: int = 10,
) -> None:
    """Serve `app` until SIGINT/SIGTERM (blocking; call from the main thread)."""
    config = make_config(
        app,
        host=host,
        port=port,
        cert=cert,
        log_level=log_level,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        graceful_shutdown_s=graceful_shutdown_s,
    )
    uvicorn.Server(config).run()
