"""`GET /api/v1/datasets/{training_id}.zip?exp=&sig=`: a selfie zip for fal to fetch, only with a
fresh signature and only while its training runs. Not advertised in the OpenAPI document: it is
for the provider, not for clients."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from headshot.api.deps import ServicesDep
from headshot.domain.errors import NotFoundError
from headshot.services.datasets import GONE

router = APIRouter(include_in_schema=False)


@router.get("/datasets/{name}")
def dataset(name: str, exp: int, sig: str, services: ServicesDep) -> StreamingResponse:
    if services.datasets is None or not name.endswith(".zip"):
        raise NotFoundError(GONE)
    chunks = services.datasets.open(name.removesuffix(".zip"), expires=exp, signature=sig)
    return StreamingResponse(
        chunks, media_type="application/zip", headers={"Cache-Control": "no-store"}
    )
