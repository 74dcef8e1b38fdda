"""`create_app(services)`: the FastAPI application over an already built object graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Response
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from headshot import __version__
from headshot.api.admission import UploadAdmission
from headshot.api.assets import StaticAssets
from headshot.api.deps import MetricsReader
from headshot.api.errors import install_error_handlers
from headshot.api.middleware import wrap_http_middleware
from headshot.api.routes import (
    account,
    admin,
    auth,
    config,
    datasets,
    docs,
    events,
    gallery,
    generations,
    health,
    me,
    notifications,
    operations,
    photos,
    public,
    receipts,
    sessions,
    trainings,
    webapp,
    webhooks,
)
from headshot.api.text import refuse_control_characters
from headshot.observability.metrics import metrics_response
from headshot.services.container import Services

API_PREFIX = "/api/v1"
RETRY_BUSY_UPLOAD_S = 3  # about the time a few photo checks take


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        for start in services.on_startup:
            start()
        yield
        started.state.admission.close()
        for stop in reversed(services.on_shutdown):
            stop()

    app = FastAPI(
        title="Headshot API",
        version=__version__,
        description="Professional headshots from selfies. Errors are "
        '`{"error": {"code", "message", "details"}}`.',
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by `routes.docs` from our own origin, under our CSP
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters)],
    )
    app.state.services = services
    app.state.assets = StaticAssets.load(webapp.static_root())
    limits = services.settings.uploads
    app.state.admission = UploadAdmission(
        workers=limits.check_workers,
        queue=limits.check_queue,
        max_bytes=limits.max_inflight_bytes,
        max_spool_bytes=limits.max_spool_bytes,
        retry_after_s=RETRY_BUSY_UPLOAD_S,
        max_wait_s=limits.check_max_wait_s,
    )
    install_error_handlers(app)
    if services.settings.trusted_proxies:
        # Only these peers may name the client (X-Forwarded-For); from anyone else the
        # header is ignored, so the login limit cannot be dodged by spoofing it.
        trusted = [str(network) for network in services.settings.trusted_proxies]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    api = APIRouter(prefix=API_PREFIX)
    for module in (
        config,
        auth,
        account,
        me,
        notifications,
        sessions,
        photos,
        trainings,
        generations,
        gallery,
        events,
        admin,
        operations,
        webhooks,
        receipts,
        datasets,
        docs,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(public.router)
    app.include_router(webapp.router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(_: MetricsReader) -> Response:
        return metrics_response(services.metrics)

    return app


def create_asgi_app(services: Services) -> ASGIApp:
    """The app as served: security headers, request ids and metrics wrap even error responses."""
    return wrap_http_middleware(create_app(services), metrics=services.metrics)
