"""Deletion receipts: readable by their unguessable id alone, since the person who asked for the
erasure may have no account any more. A browser gets a page; an API client gets JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from headshot.api.deps import ServicesDep
from headshot.api.errors import error_response
from headshot.api.negotiation import prefers_html
from headshot.api.pages import gone_page, receipt_page
from headshot.api.routes.webapp import assets_of
from headshot.api.schemas import ErrorOut
from headshot.api.schemas_privacy import DeletionReceiptOut
from headshot.domain.errors import NotFoundError
from headshot.domain.privacy import DeletionReceiptView

router = APIRouter(tags=["privacy"])

RECEIPT_HEADER = "Deletion-Receipt"


@router.get(
    "/deletion-receipts/{receipt_id}",
    response_model=DeletionReceiptOut,
    responses={200: {"content": {"text/html": {}}}, 404: {"model": ErrorOut}},
)
def deletion_receipt(receipt_id: str, request: Request, services: ServicesDep) -> Response:
    """The receipt as JSON, or as a page when the request prefers `text/html`."""
    html = prefers_html(request.headers.get("accept", ""))
    stylesheet = assets_of(request).url("share.css")
    try:
        view = services.erasure.receipt(receipt_id)
    except NotFoundError as exc:
        if not html:
            return error_response(404, exc.code, exc.message)
        body = gone_page(
            title="No such receipt",
            message="This deletion receipt does not exist. Check that the address is complete.",
            stylesheet=stylesheet,
        )
        return HTMLResponse(body, status_code=404)
    if html:
        return HTMLResponse(receipt_page(view, stylesheet=stylesheet))
    return JSONResponse(DeletionReceiptOut.of(view).model_dump(mode="json"))


def deleted(view: DeletionReceiptView) -> Response:
    """204 for a deleted resource, pointing at its receipt (provider deletions may be pending)."""
    url = DeletionReceiptOut.of(view).status_url
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={RECEIPT_HEADER: url})
