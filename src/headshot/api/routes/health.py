"""Liveness and readiness probes (outside `/api/v1`)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from headshot.api.deps import ServicesDep
from headshot.api.schemas import HealthOut

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)
def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut)
@router.head("/readyz", include_in_schema=False)
def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, check in services.readiness_checks.items():
        try:
            check()
            checks[name] = "ok"
        except Exception:  # a probe reports failure; it never raises
            log.warning("readiness check %s failed", name, exc_info=True)
            checks[name] = "failing"
    ok = all(v == "ok" for v in checks.values())
    body = HealthOut(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
