"""Shared route dependencies: the services, the caller, and the guards that repeat."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from headshot.api.admission import UploadAdmission
from headshot.domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from headshot.domain.models import Principal
from headshot.services.container import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


class _SessionCookie(APIKeyCookie):
    """The web session cookie, read under the configured name (OpenAPI shows the default)."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.cookies.get(get_services(request).settings.auth.cookie_name) or None


# Declared as security schemes, so the OpenAPI document says how every operation that needs a
# caller authenticates.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`access_token` from POST /api/v1/auth/login, or a personal API token.",
)
SESSION_COOKIE = _SessionCookie(
    name="headshot_session",
    auto_error=False,
    scheme_name="cookie",
    description="The web app's session cookie (`HEADSHOT_AUTH__COOKIE_NAME`); a write also "
    "needs a same-origin `Origin` or `Sec-Fetch-Site` header.",
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
SessionCookie = Annotated[str | None, Security(SESSION_COOKIE)]


def current_principal(
    request: Request, services: ServicesDep, bearer: BearerCredentials, cookie: SessionCookie
) -> Principal:
    """The authenticated caller, from a bearer token or the web session cookie."""
    if bearer is not None:
        principal = services.accounts.authenticate(bearer.credentials.strip())
    else:
        if not cookie:
            raise AuthenticationError("Please sign in.", code="unauthenticated")
        principal = services.accounts.authenticate(cookie)
        _refuse_cross_site(request, services.settings.public_url)
    needed = "read" if request.method in SAFE_METHODS else "write"
    if needed not in principal.scopes:
        raise PermissionDeniedError(
            f"This API token lacks the {needed!r} scope.", code="insufficient_scope"
        )
    return principal


def _refuse_cross_site(request: Request, public_url: str | None) -> None:
    """CSRF defence for cookie-authenticated writes, beyond SameSite: the browser must say the
    request comes from our own origin, by `Origin` (the origin this request was addressed to,
    or the configured public URL's) or by `Sec-Fetch-Site: same-origin`. A write that says
    neither is refused; `Referer` is never trusted. Bearer requests are not affected."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site is not None and site != "same-origin":
        raise PermissionDeniedError("Cross-site request refused.", code="cross_site")
    if origin is not None:
        if _origin(origin) not in _own_origins(request, public_url):
            raise PermissionDeniedError("Cross-site request refused.", code="cross_site")
        return
    if site is None:
        raise PermissionDeniedError(
            "This signed-in request does not say which site it comes from, so it was refused.",
            code="cross_site",
        )


def _own_origins(request: Request, public_url: str | None) -> set[str]:
    # A browser cannot forge Host cross-site, so the origin the request was sent to is ours.
    own = {_origin(f"{request.url.scheme}://{request.headers.get('host', '')}")}
    return own | {_origin(public_url)} if public_url else own


def _origin(url: str) -> str:
    """scheme://host[:port], lower-cased, without a default port."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a malformed port never matches
        return "invalid"
    default = {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


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


def get_admission(request: Request) -> UploadAdmission:
    admission: UploadAdmission = request.app.state.admission
    return admission


Admission = Annotated[UploadAdmission, Depends(get_admission)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
