"""`/admin`: operator-only endpoints (others get the 404 of a missing route)."""

from __future__ import annotations

from fastapi import APIRouter, status

from headshot.api.deps import Operator, ServicesDep
from headshot.api.schemas_admin import ProviderKeyIn, ProviderKeyOut, ProviderKeysOut

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
