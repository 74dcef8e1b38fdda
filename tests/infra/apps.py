"""A tiny FastAPI app wired with the serving middleware, and a request helper."""

from __future__ import annotations

import asyncio
import logging

import httpx
from fastapi import FastAPI, Response
from starlette.types import ASGIApp

from headshot.api.middleware import add_http_middleware, wrap_http_middleware
from headshot.observability import Metrics, current_request_id, metrics_response

log = logging.getLogger("tests.infra.app")


def tiny_app(metrics: Metrics | None = None, *, inside: bool = False) -> ASGIApp:
    """The app wrapped in the stack (or, with `inside`, the stack added to the FastAPI app)."""
    app = FastAPI()
    if inside:
        add_http_middleware(app, metrics=metrics or Metrics())

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str | None]:
        # A sync route runs in the threadpool: the request id must follow it there.
        log.info("serving thing %s", thing_id)
        return {"id": thing_id, "request_id": current_request_id()}

    @app.get("/api/v1/cacheable")
    def cacheable(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "private, max-age=60"
        return {}

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    if metrics is not None:

        @app.get("/metrics")
        def exposition() -> Response:
            return metrics_response(metrics)

    return app if inside else wrap_http_middleware(app, metrics=metrics or Metrics())


def get(app: ASGIApp, path: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(call())
