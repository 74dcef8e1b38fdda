"""`/admin`: the operator's invitations, per-person quotas and product metrics."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from headshot.api.deps import Operator, ServicesDep
from headshot.api.schemas_operations import (
    InvitationIn,
    InvitationIssuedOut,
    InvitationOut,
    InvitationsOut,
    ProductMetricsOut,
    QuotaIn,
    QuotaOut,
)

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/invitations")
def list_invitations(_: Operator, services: ServicesDep) -> InvitationsOut:
    return InvitationsOut(invitations=[InvitationOut.of(v) for v in services.invitations.list()])


@router.post("/invitations", status_code=status.HTTP_201_CREATED)
def create_invitation(
    body: InvitationIn, operator: Operator, services: ServicesDep
) -> InvitationIssuedOut:
    """A single-use invitation; its token is in this answer only."""
    issued = services.invitations.create(
        by=operator.user_id,
        email_domain=body.email_domain,
        expires_in_days=body.expires_in_days,
        note=body.note,
    )
    return InvitationIssuedOut(**InvitationOut.of(issued.view).model_dump(), token=issued.token)


@router.delete("/invitations/{invitation_id}")
def revoke_invitation(
    invitation_id: str, operator: Operator, services: ServicesDep
) -> InvitationOut:
    return InvitationOut.of(services.invitations.revoke(invitation_id, by=operator.user_id))


@router.get("/quotas")
def person_quota(
    _: Operator, services: ServicesDep, email: str = Query(max_length=320)
) -> QuotaOut:
    """A person's limits and what they used in the current period."""
    return QuotaOut.of(services.quotas.view(email))


@router.put("/quotas")
def set_person_quota(body: QuotaIn, operator: Operator, services: ServicesDep) -> QuotaOut:
    """Limits for one person in place of the defaults (null fields: the default)."""
    view = services.quotas.set_override(
        body.email,
        trainings_per_period=body.trainings_per_period,
        images_per_period=body.images_per_period,
        by=operator.user_id,
    )
    return QuotaOut.of(view)


@router.get("/metrics")
def product_metrics(_: Operator, services: ServicesDep) -> ProductMetricsOut:
    """The success metrics (R7.1) against their thresholds, read from the records now."""
    return ProductMetricsOut.of(services.product_stats.snapshot())
