"""`/admin`: operator-only endpoints (others get the 404 of a missing route)."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from headshot.api.deps import Operator, ServicesDep
from headshot.api.schemas_admin import ProviderKeyIn, ProviderKeyOut, ProviderKeysOut
from headshot.api.schemas_privacy import AuditEntryOut, AuditPageOut

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/provider-keys")
def list_provider_keys(_: Operator, services: ServicesDep) -> ProviderKeysOut:
    return ProviderKeysOut(keys=[ProviderKeyOut.of(v) for v in services.provider_keys.list()])


@router.post("/provider-keys", status_code=status.HTTP_201_CREATED)
def add_provider_key(
    body: ProviderKeyIn, operator: Operator, services: ServicesDep
) -> ProviderKeyOut:
    """Store a fal key as the active key of its scope; the previous one starts retiring."""
    view = services.provider_keys.add(
        body.secret.get_secret_value(), label=body.label, scope=body.scope, by=operator.user_id
    )
    return ProviderKeyOut.of(view)


@router.post("/provider-keys/{key_id}/retire")
def retire_provider_key(key_id: str, operator: Operator, services: ServicesDep) -> ProviderKeyOut:
    """New work stops using the key while another is usable; work in flight keeps it."""
    return ProviderKeyOut.of(services.provider_keys.retire(key_id, by=operator.user_id))


@router.delete("/provider-keys/{key_id}")
def revoke_provider_key(key_id: str, operator: Operator, services: ServicesDep) -> ProviderKeyOut:
    """Never use the key again, not even for work in flight (its secret is erased)."""
    return ProviderKeyOut.of(services.provider_keys.revoke(key_id, by=operator.user_id))


@router.get("/audit")
def audit_log(
    operator: Operator,
    services: ServicesDep,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> AuditPageOut:
    """The whole audit log, newest first (reading it is itself recorded)."""
    page, next_cursor = services.accounts.audit_page(
        operator, cursor=cursor, limit=limit, everyone=True
    )
    return AuditPageOut(items=[AuditEntryOut.of(e) for e in page], next_cursor=next_cursor)
