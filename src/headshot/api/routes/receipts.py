"""Deletion receipts: readable by their unguessable id alone, since the person who asked for the
erasure may have no account any more."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from headshot.api.deps import ServicesDep
from headshot.api.schemas_privacy import DeletionReceiptOut
from headshot.domain.privacy import DeletionReceiptView

router = APIRouter(tags=["privacy"])

RECEIPT_HEADER = "Deletion-Receipt"


@router.get("/deletion-receipts/{receipt_id}")
def deletion_receipt(receipt_id: str, services: ServicesDep) -> DeletionReceiptOut:
    return DeletionReceiptOut.of(services.erasure.receipt(receipt_id))


def deleted(view: DeletionReceiptView) -> Response:
    """204 for a deleted resource, pointing at its receipt (provider deletions may be pending)."""
    url = DeletionReceiptOut.of(view).status_url
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={RECEIPT_HEADER: url})
