"""Trainings and model versions."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from headshot.api.deps import CurrentUser, ServicesDep
from headshot.api.routes.receipts import deleted
from headshot.api.schemas_jobs import ModelsOut, TrainingIn, TrainingOut

router = APIRouter(tags=["trainings"])


@router.post("/sessions/{session_id}/trainings", status_code=status.HTTP_202_ACCEPTED)
def start_training(
    session_id: str, body: TrainingIn, principal: CurrentUser, services: ServicesDep
) -> TrainingOut:
    view = services.trainings.start(
        principal,
        session_id,
        engine=body.engine,
        steps=body.steps,
        trigger_phrase=body.trigger_phrase,
        options=body.options,
    )
    return TrainingOut.of(services.trainings.get(principal, view.id))


@router.get("/trainings/{training_id}")
def get_training(training_id: str, principal: CurrentUser, services: ServicesDep) -> TrainingOut:
    return TrainingOut.of(services.trainings.get(principal, training_id))


@router.post("/trainings/{training_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
def cancel_training(training_id: str, principal: CurrentUser, services: ServicesDep) -> TrainingOut:
    return TrainingOut.of(services.trainings.cancel(principal, training_id))


@router.get("/sessions/{session_id}/models")
def list_models(session_id: str, principal: CurrentUser, services: ServicesDep) -> ModelsOut:
    return ModelsOut(
        models=[TrainingOut.of(v) for v in services.trainings.list(principal, session_id)]
    )


@router.get("/models/{model_id}")
def get_model(model_id: str, principal: CurrentUser, services: ServicesDep) -> TrainingOut:
    return TrainingOut.of(services.trainings.get(principal, model_id))


@router.delete("/models/{model_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_model(model_id: str, principal: CurrentUser, services: ServicesDep) -> Response:
    return deleted(services.erasure.delete_model(principal, model_id))
