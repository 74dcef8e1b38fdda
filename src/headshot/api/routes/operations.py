"""`/admin`: the operator's invitations, per-person quotas and product metrics."""

from __future__ import annotations

from fastapi import APIRouter, status

from headshot.api.deps import Operator, ServicesDep
from headshot.api.schemas_operations import (
    InvitationIn,
    InvitationIssuedOut,
    InvitationOut,
    InvitationsOut,
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
