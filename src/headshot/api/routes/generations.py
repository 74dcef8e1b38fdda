"""Generations and the styles to choose from."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.schemas_jobs import (
    AxisSupportOut,
    GenerationIn,
    GenerationOut,
    StyleOut,
    StylesOut,
)
from headshot.domain.capabilities import axes_of
from headshot.domain.errors import NotFoundError
from headshot.domain.models import Look
from headshot.domain.styles import CATALOGUE

router = APIRouter(tags=["generations"])


@router.get("/styles")
def list_styles(
    services: ServicesDep,
    engine: Annotated[
        Literal["fal", "studio"] | None, Query(description="Default: the active one.")
    ] = None,
) -> StylesOut:
    """The catalogue, and which axes the engine can render (a model uses its own engine)."""
    chosen = engine or services.trainings.default_engine
    return StylesOut(
        backgrounds=[StyleOut.of(s) for s in CATALOGUE["background"]],
        attire=[StyleOut.of(s) for s in CATALOGUE["attire"]],
        lighting=[StyleOut.of(s) for s in CATALOGUE["lighting"]],
        engine=chosen,
        axes={
            axis: AxisSupportOut(supported=s.supported, reason=s.reason)
            for axis, s in axes_of(chosen).items()
        },
    )


@router.get(
    "/styles/{axis}/{style_id}/preview",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def style_preview(axis: Literal["background", "attire", "lighting"], style_id: str) -> Response:
    """A small preview image of one style (the catalogue's `preview_url`)."""
    from headshot.engines.studio.previews import render_preview

    image = render_preview(axis, style_id)
    if image is None:
        raise NotFoundError("This style does not exist.")
    return Response(
        image, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.post("/generations", status_code=status.HTTP_202_ACCEPTED)
def start_generation(
    body: GenerationIn, principal: CurrentUser, services: ServicesDep
) -> GenerationOut:
    view = services.generations.start(
        principal,
        model_id=body.model_id,
        looks=[Look(**look.model_dump()) for look in body.looks],
        images_per_look=body.images_per_look,
        seed=body.seed,
    )
    return GenerationOut.of(services.generations.get(principal, view.id))


@router.post("/headshots/{headshot_id}/more", status_code=status.HTTP_202_ACCEPTED)
def more_like_this(
    headshot_id: str, principal: CurrentUser, services: ServicesDep
) -> GenerationOut:
    """ "More like this": a new generation with the headshot's model version and look and a new
    seed (as many images as its generation made, from new candidates)."""
    view = services.generations.more_like(principal, headshot_id)
    return GenerationOut.of(services.generations.get(principal, view.id))


@router.get("/generations/{generation_id}")
def get_generation(
    generation_id: str, principal: CurrentUser, services: ServicesDep
) -> GenerationOut:
    return GenerationOut.of(services.generations.get(principal, generation_id))


@router.post("/generations/{generation_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
def cancel_generation(
    generation_id: str, principal: CurrentUser, services: ServicesDep
) -> GenerationOut:
    return GenerationOut.of(services.generations.cancel(principal, generation_id))
