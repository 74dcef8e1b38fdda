"""`FalDouble`: a real HTTP server on 127.0.0.1 (random port) that speaks fal's protocol.

Every fal host lives under its own prefix of one server, so a client proves it honours each
configured base URL: queue `/q`, REST `/rest`, CDN `/cdn`, Platform API `/api`, and `/ours`
for files "we" publish ourselves (the `publish` path)."""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from tests.fal_double import key_routes, queue_routes, storage_routes
from tests.fal_double.core import DEFAULT_KEYS, DoubleCore
from tests.fal_double.faults import Fault, FaultPlan
from tests.fal_double.state import DoubleClock, FakeRequest, Pace
from tests.fal_double.wire import Incoming, ReceivedRequest, Reply, UploadRecord, WebhookDelivery

RouteFn = Callable[[DoubleCore, Incoming, re.Match[str]], Reply]
_APP = r"/q/fal-ai/(?P<app>[\w.-]+)"
ROUTES: tuple[tuple[str, re.Pattern[str], str, RouteFn], ...] = tuple(
    (method, re.compile(pattern + r"\Z"), name, fn)
    for method, pattern, name, fn in (
        ("POST", _APP, "submit", queue_routes.submit),
        ("GET", _APP + r"/requests/(?P<id>[\w-]+)/status", "status", queue_routes.status),
        ("GET", _APP + r"/requests/(?P<id>[\w-]+)(?:/response)?", "result", queue_routes.result),
        ("PUT", _APP + r"/requests/(?P<id>[\w-]+)/cancel", "cancel", queue_routes.cancel),
        ("POST", r"/rest/storage/auth/token", "token", storage_routes.token),
        ("POST", r"/rest/storage/upload/initiate", "initiate", storage_routes.initiate),
        ("GET", r"/rest/\.well-known/jwks\.json", "jwks", storage_routes.jwks),
        ("POST", r"/cdn/files/upload", "cdn_upload", storage_routes.cdn_upload),
        ("PUT", r"/cdn/gcs/(?P<id>[\w-]+)", "signed_put", storage_routes.signed_put),
        ("GET", r"/(?:cdn/files|ours)/.+", "download", storage_routes.download),
        (
            "DELETE",
            r"/api/v1/models/requests/(?P<id>[\w-]+)/payloads",
            "delete_payloads",
            storage_routes.delete_payloads,
        ),
        (
            "GET",
            r"/api/v1/models/requests/by-endpoint",
            "list_requests",
            storage_routes.list_requests,
        ),
        ("POST", r"/api/v1/keys", "create_key", key_routes.create_key),
        ("DELETE", r"/api/v1/keys/(?P<id>[\w-]+)", "delete_key", key_routes.delete_key),
    )
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    core: DoubleCore

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets are injected on purpose; a traceback per reset is noise


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: resets hit exactly one call
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST", "PUT", "DELETE")

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        core = self.server.core
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        inc = Incoming(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        found = _route(inc)
        if found is None:
            self._send(Reply.of(404, {"detail": "Not Found"}))
            return
        name, fn, match = found
        with core.lock:
            core.received.append(
                ReceivedRequest(name, inc.method, inc.path, inc.query, inc.headers, inc.body)
            )
        fault = core.faults.pick(name, endpoint=f"fal-ai/{match.groupdict().get('app')}")
        if fault is not None and fault.kind != "fail_request" and self._preempt(core, fault):
            return
        reply = fn(core, _with(inc, name, fault), match)
        if fault is not None and fault.kind == "reset_after":
            self._reset()
            return
        self._send(reply)

    def _preempt(self, core: DoubleCore, fault: Fault) -> bool:
        """Apply a fault that acts before the route; True when the call is finished."""
        if fault.kind == "slow":
            time.sleep(fault.delay_s)
            return False
        if fault.kind == "reset_before":
            self._reset()
            return True
        if fault.kind == "status":
            self._send(_fault_reply(core, fault))
            return True
        return False

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _reset(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST: "connection reset by peer" on the client.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _route(inc: Incoming) -> tuple[str, RouteFn, re.Match[str]] | None:
    for method, pattern, name, fn in ROUTES:
        if method == inc.method and (match := pattern.match(inc.path)):
            return name, fn, match
    return None


def _with(inc: Incoming, route: str, fault: Fault | None) -> Incoming:
    return Incoming(inc.method, inc.path, inc.query, inc.headers, inc.body, route, fault)


def _fault_reply(core: DoubleCore, fault: Fault) -> Reply:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = fault.retry_after
    if fault.with_request_id:
        headers["x-fal-request-id"] = core.new_id()
        headers["X-Fal-Error-Type"] = "runner_server_error"
        detail = {"detail": "Runner failed", "error_type": "runner_server_error"}
        return Reply.of(fault.status, detail, **headers)
    if fault.status >= 500:  # an ingress error: HTML from nginx, no fal request id
        body = f"<html><center><h1>{fault.status}</h1></center>nginx</html>".encode()
        return Reply(fault.status, body, {"Content-Type": "text/html", **headers})
    return Reply.of(fault.status, {"detail": "Injected fault", "error_type": "fault"}, **headers)


class FalDouble:
    """Start with `FalDouble.start(...)`; stop with `.stop()` (or use it as a context manager)."""

    def __init__(self, core: DoubleCore, server: _Server, thread: threading.Thread) -> None:
        self._core = core
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        core.base_url = self.base_url

    @classmethod
    def start(
        cls,
        *,
        seed: int = 0,
        faults: FaultPlan = FaultPlan(),
        pace: Pace = Pace(),
        keys: Mapping[str, str] = DEFAULT_KEYS,
        deliver_webhooks: bool = False,
    ) -> FalDouble:
        core = DoubleCore(
            seed=seed, faults=faults, pace=pace, keys=keys, deliver_webhooks=deliver_webhooks
        )
        server = _Server(("127.0.0.1", 0), _Handler)
        server.core = core
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        double = cls(core, server, thread)
        thread.start()
        return double

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FalDouble:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- where the fal hosts are --------------------------------------------------------

    @property
    def queue_url(self) -> str:
        return f"{self.base_url}/q"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/rest"

    @property
    def cdn_url(self) -> str:
        return f"{self.base_url}/cdn"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    # -- what it saw ----------------------------------------------------------------------

    @property
    def clock(self) -> DoubleClock:
        return self._core.clock

    @property
    def received(self) -> list[ReceivedRequest]:
        with self._core.lock:
            return list(self._core.received)

    def received_on(self, route: str) -> list[ReceivedRequest]:
        return [call for call in self.received if call.route == route]

    @property
    def uploads(self) -> list[UploadRecord]:
        with self._core.lock:
            return list(self._core.uploads)

    @property
    def webhooks(self) -> list[WebhookDelivery]:
        with self._core.lock:
            return list(self._core.webhooks)

    @property
    def requests(self) -> dict[str, FakeRequest]:
        with self._core.lock:
            return dict(self._core.requests)

    def archive(self, request_id: str) -> dict[str, bytes]:
        """The members of the training zip a request referenced (when the double held it)."""
        with self._core.lock:
            return dict(self._core.archives.get(request_id, {}))

    def billable_submits(self, endpoint: str) -> int:
        with self._core.lock:
            return self._core.billable[endpoint]

    @property
    def created_keys(self) -> list[str]:
        """Aliases of the keys made through the key API, in order."""
        with self._core.lock:
            return list(self._core.created_keys)

    @property
    def deleted_keys(self) -> list[str]:
        """Key ids deleted through the key API, in order."""
        with self._core.lock:
            return list(self._core.deleted_keys)

    def accepts_key(self, key: str) -> bool:
        with self._core.lock:
            return key in self._core.keys

    def public_jwk(self) -> dict[str, str]:
        return self._core.signer.jwk()

    # -- steering -------------------------------------------------------------------------

    def advance(self, ticks: int = 1) -> None:
        with self._core.lock:
            for request in self._core.requests.values():
                self._core.advance(request, ticks)

    def complete_all(self) -> None:
        total = self._core.pace.queue_ticks + self._core.pace.run_ticks
        self.advance(total)

    def inject(self, fault: Fault) -> None:
        self._core.faults.add(fault)

    def clear_faults(self) -> None:
        """Disarm every fault: the provider is healthy again."""
        self._core.faults.clear()

    def lock_account(self, reason: str = "Exhausted balance.") -> None:
        self._core.locked_reason = reason

    def host_file(self, content: bytes, name: str) -> str:
        """Serve a file as if from our own server (a stand-in for a signed URL of ours)."""
        path = f"/ours/{self._core.new_id()}/{name}"
        return self._core.store_file(path, content, "application/zip")
