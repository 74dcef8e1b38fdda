"""Shared route dependencies: the services, the caller, and the guards that repeat."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from headshot.domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from headshot.domain.models import Principal
from headshot.services.container import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_principal(request: Request, services: ServicesDep) -> Principal:
    """The authenticated caller, from a bearer token or the web session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if header and scheme.lower() == "bearer" and secret.strip():
        principal = services.accounts.authenticate(secret.strip())
    else:
        cookie = request.cookies.get(services.settings.auth.cookie_name)
        if not cookie:
            raise AuthenticationError("Please sign in.", code="unauthenticated")
        principal = services.accounts.authenticate(cookie)
        _refuse_cross_site(request)
    needed = "read" if request.method in SAFE_METHODS else "write"
    if needed not in principal.scopes:
        raise PermissionDeniedError(
            f"This API token lacks the {needed!r} scope.", code="insufficient_scope"
        )
    return principal


def _refuse_cross_site(request: Request) -> None:
    # Cookie-authenticated writes must come from our own pages (CSRF defence beyond SameSite).
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site is not None and site not in {"same-origin", "none"}:
        raise PermissionDeniedError("Cross-site request refused.", code="cross_site")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise PermissionDeniedError("Cross-site request refused.", code="cross_site")


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_operator(principal: CurrentUser) -> Principal:
    if not principal.is_operator:
        # Same answer as a missing route: operators' endpoints are not advertised to users.
        raise NotFoundError("Nothing here.")
    return principal


Operator = Annotated[Principal, Depends(require_operator)]


def require_metrics_reader(request: Request, services: ServicesDep) -> None:
    """`/metrics` answers Prometheus with the configured scrape token, or an operator's token;
    anyone else is refused (the figures describe the whole instance)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise AuthenticationError("A bearer token is needed to read the metrics.")
    configured = services.settings.metrics_token
    if configured is not None and hmac.compare_digest(
        secret.encode(), configured.get_secret_value().encode()
    ):
        return
    if not services.accounts.authenticate(secret).is_operator:
        raise PermissionDeniedError("Only operators may read the metrics.")


MetricsReader = Annotated[None, Depends(require_metrics_reader)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
