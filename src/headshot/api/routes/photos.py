"""Photo upload, listing, images and the set's readiness."""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from headshot.api.deps import Admission, CurrentUser, ServicesDep
from headshot.api.errors import error_response
from headshot.api.routes.receipts import deleted
from headshot.api.schemas import ErrorOut, PhotoPatch, PhotoReportOut, PhotosOut, SetReportOut
from headshot.api.uploads import read_photo_files

router = APIRouter(tags=["photos"])

UPLOAD_BODY = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["files"],
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
    "required": True,
}


@router.post(
    "/sessions/{session_id}/photos",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        413: {"model": ErrorOut},
        422: {"model": ErrorOut},
        403: {"model": ErrorOut},
        503: {"model": ErrorOut, "description": "Busy: retry after `Retry-After` seconds."},
    },
)
async def upload_photos(
    session_id: str,
    request: Request,
    principal: CurrentUser,
    services: ServicesDep,
    admission: Admission,
) -> Response:
    """Store and validate one or many photos (multipart field `files`). When the server is
    busy the answer is 503 with `Retry-After`: send the same request again then."""
    photos = services.photos
    await run_in_threadpool(photos.ensure_can_upload, principal, session_id)
    with admission.admit(_declared_length(request)) as ticket:
        async with read_photo_files(
            request.stream(),
            content_type=request.headers.get("content-type"),
            limits=services.settings.uploads,
            spool=services.upload_spool,
            on_held=ticket.hold,
        ) as received:
            ticket.hold(memory=received.check_memory_bytes, disk=received.disk_bytes)
            check = partial(photos.add_many, principal, session_id, received.files)
            result = await admission.check(check)
    if not result.photos:
        first = result.rejections[0]
        status_code = 413 if any(r.status == 413 for r in result.rejections) else first.status
        details = {"files": [{"filename": r.filename, "code": r.code} for r in result.rejections]}
        return error_response(status_code, first.code, first.message, details)
    reports = [PhotoReportOut.of(p) for p in result.photos]
    reports += [PhotoReportOut.rejected(r) for r in result.rejections]
    body = PhotosOut(photos=reports).model_dump(mode="json")
    return JSONResponse(body, status_code=status.HTTP_201_CREATED)


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0


@router.get("/sessions/{session_id}/photos")
def list_photos(session_id: str, principal: CurrentUser, services: ServicesDep) -> PhotosOut:
    views = services.photos.list(principal, session_id)
    return PhotosOut(photos=[PhotoReportOut.of(v) for v in views])


@router.get("/sessions/{session_id}/readiness")
def readiness(session_id: str, principal: CurrentUser, services: ServicesDep) -> SetReportOut:
    return SetReportOut.model_validate(services.photos.readiness(principal, session_id))


@router.get("/photos/{photo_id}")
def get_photo(photo_id: str, principal: CurrentUser, services: ServicesDep) -> PhotoReportOut:
    return PhotoReportOut.of(services.photos.get(principal, photo_id))


@router.patch("/photos/{photo_id}")
def patch_photo(
    photo_id: str, body: PhotoPatch, principal: CurrentUser, services: ServicesDep
) -> PhotoReportOut:
    """Leave a photo out of training (`excluded: true`) or take it back; readiness follows."""
    view = services.photos.set_excluded(principal, photo_id, excluded=body.excluded)
    return PhotoReportOut.of(view)


@router.delete("/photos/{photo_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_photo(photo_id: str, principal: CurrentUser, services: ServicesDep) -> Response:
    return deleted(services.erasure.delete_photo(principal, photo_id))


@router.get(
    "/photos/{photo_id}/image",
    response_class=StreamingResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def photo_image(
    photo_id: str,
    principal: CurrentUser,
    services: ServicesDep,
    size: Literal["thumb", "full"] = "full",
) -> StreamingResponse:
    image = services.photos.image(principal, photo_id, size=size)
    return StreamingResponse(
        image.chunks,
        media_type=image.media_type,
        headers={"Cache-Control": "private, no-store"},
    )
