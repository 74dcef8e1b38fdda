"""`create_app(services)`: the FastAPI application over an already built object graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from headshot import __version__
from headshot.api.errors import install_error_handlers
from headshot.api.routes import auth, health, me, photos, sessions
from headshot.services.container import Services

API_PREFIX = "/api/v1"


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        for stop in reversed(services.on_shutdown):
            stop()

    app = FastAPI(
        title="Headshot API",
        version=__version__,
        description="Professional headshots from selfies. Errors are "
        '`{"error": {"code", "message", "details"}}`.',
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, me, sessions, photos):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
