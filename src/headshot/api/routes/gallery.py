"""The gallery of headshots, favourites, downloads and share links."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import StreamingResponse

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.routes.receipts import deleted
from headshot.api.schemas import ErrorOut
from headshot.api.schemas_jobs import (
    ActiveShareOut,
    ActiveSharesOut,
    HeadshotOut,
    HeadshotPatch,
    HeadshotsOut,
    ShareIn,
    ShareOut,
)
from headshot.services.gallery import GalleryFilter

router = APIRouter(tags=["gallery"])


def gallery_filter(
    session: str | None = None,
    model: str | None = None,
    background: str | None = None,
    attire: str | None = None,
    lighting: str | None = None,
    favorite: bool | None = None,
    min_likeness: Annotated[float | None, Query(ge=-1, le=1)] = None,
) -> GalleryFilter:
    """The gallery's filters, shared by the listing and the zip of everything it shows."""
    return GalleryFilter(session, model, background, attire, lighting, favorite, min_likeness)


Filters = Annotated[GalleryFilter, Depends(gallery_filter)]


@router.get("/headshots")
def list_headshots(
    principal: CurrentUser,
    services: ServicesDep,
    filters: Filters,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HeadshotsOut:
    page = services.gallery.list(principal, filters, cursor=cursor, limit=limit)
    return HeadshotsOut(
        headshots=[HeadshotOut.of(h) for h in page.headshots],
        next_cursor=page.next_cursor,
        total=page.total,
    )


@router.get(
    "/headshots/archive",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, 404: {"model": ErrorOut}},
)
def download_headshots(
    principal: CurrentUser,
    services: ServicesDep,
    filters: Filters,
) -> StreamingResponse:
    """Every headshot the filters choose (the gallery's filters), in one zip; 404
    `nothing_to_download` when they choose none."""
    return StreamingResponse(
        services.gallery.archive(principal, filters),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="headshots.zip"'},
    )


@router.get("/headshots/{headshot_id}")
def get_headshot(headshot_id: str, principal: CurrentUser, services: ServicesDep) -> HeadshotOut:
    return HeadshotOut.of(services.gallery.get(principal, headshot_id))


@router.patch("/headshots/{headshot_id}")
def patch_headshot(
    headshot_id: str, body: HeadshotPatch, principal: CurrentUser, services: ServicesDep
) -> HeadshotOut:
    view = services.gallery.set_favorite(principal, headshot_id, favorite=body.favorite)
    return HeadshotOut.of(view)


@router.delete("/headshots/{headshot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_headshot(headshot_id: str, principal: CurrentUser, services: ServicesDep) -> Response:
    return deleted(services.erasure.delete_headshot(principal, headshot_id))


@router.get(
    "/headshots/{headshot_id}/image",
    response_class=StreamingResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def headshot_image(
    headshot_id: str,
    principal: CurrentUser,
    services: ServicesDep,
    size: Literal["full", "thumb"] = "full",
) -> StreamingResponse:
    """The headshot, or with `size=thumb` a rendition of at most 384 pixels for grids."""
    if size == "thumb":
        image = services.thumbnails.open(principal, headshot_id)
    else:
        image = services.gallery.image(principal, headshot_id)
    return StreamingResponse(
        image.chunks,
        media_type=image.media_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="headshot-{headshot_id[:8]}.jpg"',
        },
    )


@router.post("/headshots/{headshot_id}/shares", status_code=status.HTTP_201_CREATED)
def share_headshot(
    headshot_id: str, body: ShareIn, principal: CurrentUser, services: ServicesDep
) -> ShareOut:
    view = services.gallery.share(principal, headshot_id, expires_in_s=body.expires_in_s)
    return ShareOut.of(view)


@router.get("/headshots/{headshot_id}/shares")
def list_shares(headshot_id: str, principal: CurrentUser, services: ServicesDep) -> ActiveSharesOut:
    """The headshot's links that still work, so they can be revoked."""
    shares = services.gallery.active_shares(principal, headshot_id)
    return ActiveSharesOut(shares=[ActiveShareOut(**s.__dict__) for s in shares])


@router.delete("/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_share(share_id: str, principal: CurrentUser, services: ServicesDep) -> None:
    services.gallery.revoke(principal, share_id)
